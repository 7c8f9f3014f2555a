"""Image and label arrays from user files and loaders, checked and converted to robench's convention.

Images: N x C x H x W, N x H x W x C (C = 1 or 3; N x C x H x W wins when both fit) or N x H x W
(one channel); uint8 0-255 (divided by 255) or floating point in [0, 1] (stored as float32). Labels: one
integer per image, 0 <= label < num_classes. Every problem is one RobenchError naming ``where``.
"""

from __future__ import annotations

import numpy as np
import torch

from robench.core.limits import CLASSES
from robench.errors import RobenchError

LUMA = (0.299, 0.587, 0.114)  # ITU-R 601-2, the weights PIL uses for RGB -> L


def as_tensor(array, where: str, what: str) -> torch.Tensor:
    """A dense CPU tensor; sparse, quantised and ragged arrays are one RobenchError."""
    if isinstance(array, torch.Tensor):
        if array.layout != torch.strided or array.is_quantized or array.is_nested:
            kind = "quantised" if array.is_quantized else str(array.layout).removeprefix("torch.")
            raise RobenchError(f"{where}: {what} are a {kind} tensor; store a dense array")
        return array.detach().cpu()
    try:
        return torch.from_numpy(np.ascontiguousarray(array))
    except ValueError:  # numpy: a list of rows of different lengths
        raise RobenchError(
            f"{where}: {what} are not a rectangular array (rows of different lengths?)"
        ) from None
    except TypeError:
        dtype = getattr(array, "dtype", type(array).__name__)
        raise RobenchError(f"{where}: {what} have unsupported type {dtype}") from None


def shape_text(tensor: torch.Tensor) -> str:
    return "x".join(str(s) for s in tensor.shape) or "a scalar"


def channels_first(images: torch.Tensor, where: str) -> torch.Tensor:
    if images.ndim == 3:
        return images.unsqueeze(1)
    if images.ndim != 4:
        raise RobenchError(
            f"{where}: images have shape {shape_text(images)}; "
            "expected N x C x H x W, N x H x W x C or N x H x W"
        )
    if images.shape[1] in (1, 3):
        return images
    if images.shape[3] in (1, 3):
        return images.permute(0, 3, 1, 2)
    raise RobenchError(f"{where}: images of shape {shape_text(images)} have no channel axis of size 1 or 3")


def unit_range(images: torch.Tensor, where: str) -> torch.Tensor:
    """uint8 -> /255; floats -> float32, checked finite and inside [0, 1]."""
    if images.dtype == torch.uint8:
        return images.to(torch.float32).div_(255.0)
    if not images.dtype.is_floating_point:
        raise RobenchError(
            f"{where}: images have dtype {str(images.dtype).removeprefix('torch.')}; "
            "store uint8 (0-255) or floating point in [0, 1]"
        )
    images = images.to(torch.float32)
    if not bool(torch.isfinite(images).all()):
        raise RobenchError(f"{where}: images contain NaN or infinite values")
    low, high = float(images.min()), float(images.max())
    if low < 0.0 or high > 1.0:
        hint = "; they look like 0-255 values: store uint8 or divide by 255" if high <= 255.0 else ""
        raise RobenchError(f"{where}: image values lie in [{low:g}, {high:g}], outside [0, 1]{hint}")
    return images


def convert_channels(images: torch.Tensor, channels: int | None, where: str) -> tuple[torch.Tensor, str]:
    """Images with ``channels`` channels (gray->RGB repeats; RGB->gray: PIL's luma) and the step done."""
    have = images.shape[1]
    if channels is None or channels == have:
        return images, "none"
    if (have, channels) == (1, 3):
        return images.expand(-1, 3, -1, -1).contiguous(), "gray-to-rgb"
    if (have, channels) == (3, 1):
        weights = torch.tensor(LUMA, dtype=images.dtype).view(1, 3, 1, 1)
        return (images * weights).sum(1, keepdim=True).clamp_(0.0, 1.0), "rgb-to-gray"
    raise RobenchError(f"{where}: cannot convert {have}-channel images to {channels} channels")


def checked_images(array, where: str, channels: int | None = None) -> tuple[torch.Tensor, str]:
    """float32 N x C x H x W images in [0, 1] and the channel conversion done."""
    images = as_tensor(array, where, "images")
    if images.ndim >= 1 and images.shape[0] == 0:
        raise RobenchError(f"{where}: holds no images (shape {shape_text(images)})")
    images = channels_first(images, where)
    if images.shape[2] < 1 or images.shape[3] < 1:
        raise RobenchError(f"{where}: images are {images.shape[2]}x{images.shape[3]}, without pixels")
    images = unit_range(images, where)
    images, conversion = convert_channels(images, channels, where)
    return images.contiguous(), conversion


def checked_labels(array, count: int, where: str, what: str = "labels") -> torch.Tensor:
    """int64, one non-negative integer per image (``what``: labels or indices, for messages)."""
    values = as_tensor(array, where, what)
    if values.dtype.is_floating_point or values.dtype.is_complex or values.dtype == torch.bool:
        raise RobenchError(
            f"{where}: {what} have dtype {str(values.dtype).removeprefix('torch.')}; use integers"
        )
    if values.ndim != 1:
        raise RobenchError(f"{where}: {what} have shape {shape_text(values)}; expected one per image (N)")
    if values.shape[0] != count:
        raise RobenchError(f"{where}: holds {count} images but {values.shape[0]} {what}")
    values = values.to(torch.int64)
    if count and int(values.min()) < 0:
        raise RobenchError(f"{where}: {what} must be >= 0, found {int(values.min())}")
    return values


def class_count(labels: torch.Tensor, given: int | None, where: str) -> int:
    """``given`` (checked against the labels) or the largest label + 1."""
    top = int(labels.max()) + 1 if len(labels) else 0
    if max(top, given or 0) > CLASSES:
        raise RobenchError(f"{where}: {max(top, given or 0):,} classes, more than the cap of {CLASSES:,}")
    if given is None:
        return top
    if top > given:
        raise RobenchError(f"{where}: label {top - 1} does not fit {given} classes")
    return int(given)
