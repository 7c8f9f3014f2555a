"""Images decoded from files on demand: only the images indexed are read, with a clear error per file.

Decoding follows torchvision: PIL opens the file, converts it to L (1 channel) or RGB (3 channels),
``torchvision.transforms.functional`` resizes (shorter side, bilinear, antialiased) and center-crops,
and the 8-bit values become float32 / 255 (as ``transforms.ToTensor``).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import torch

from robench.core.limits import DECODE_THREADS, IMAGE_PIXELS
from robench.errors import RobenchError

SINGLE_BAND_MODES = frozenset({"1", "L", "LA"})
UNSUPPORTED_MODES = frozenset({"I", "I;16", "I;16B", "I;16L", "I;16N", "F"})  # 16-bit / float: L would clip
PARALLEL_FROM = 16  # decode in threads from this many images on (PIL releases the GIL while decoding)


def read_error(path: str, exc: BaseException) -> RobenchError:
    reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return RobenchError(f"{path} cannot be read as an image ({reason})")


def open_image(path: str, max_pixels: int = IMAGE_PIXELS):
    """The opened PIL image (header read, pixels not yet decoded); unreadable files, images without
    pixels and images of more than ``max_pixels`` pixels (checked from the header, before anything is
    decoded) are a RobenchError."""
    from PIL import Image

    try:
        with warnings.catch_warnings():  # PIL only warns up to twice its own cap; ours is checked below
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(path)
    except Image.DecompressionBombError as exc:  # beyond twice PIL's own cap, which applies too
        raise RobenchError(
            f"{path} {str(exc).split(', could')[0].lower()} (robench's cap: {max_pixels:,} pixels, "
            "--max-image-pixels)"
        ) from None
    except (OSError, ValueError, SyntaxError) as exc:
        raise read_error(path, exc) from None
    width, height = image.size
    problem = None
    if image.mode in UNSUPPORTED_MODES:
        problem = f"{path} has {image.mode} pixels (16-bit or float); robench reads 8-bit images"
    elif width < 1 or height < 1:
        problem = f"{path} is a {width}x{height} image, without pixels"
    elif width * height > max_pixels:
        problem = (
            f"{path} is {width}x{height} = {width * height:,} pixels, more than the cap of {max_pixels:,} "
            "(--max-image-pixels raises it)"
        )
    if problem is not None:
        image.close()
        raise RobenchError(problem)
    return image


@dataclass(frozen=True)
class Preprocess:
    """Decode one image file: mode for ``channels``, optional resize, center crop. As RobustBench's
    preprocessings: with a crop the shorter side is resized (``Res256Crop224``), without one the image is
    resized to ``resize`` x ``resize`` (``Res224``); ``interpolation`` bilinear or bicubic."""

    channels: int
    resize: int | None = None
    crop: int | None = None
    max_pixels: int = IMAGE_PIXELS  # refused before decoding (open_image)
    interpolation: str = "bilinear"

    @property
    def name(self) -> str:
        """RobustBench's name: ``Res256Crop224``, ``BicubicRes256Crop224``, ``Res224``, ``Crop288``,
        or ``none``."""
        parts = [f"Res{self.resize}" if self.resize else "", f"Crop{self.crop}" if self.crop else ""]
        bicubic = "Bicubic" if self.interpolation == "bicubic" and self.resize else ""
        return bicubic + "".join(parts) or "none"

    def __call__(self, path: str) -> torch.Tensor:
        from PIL import Image
        from torchvision.transforms import functional

        with open_image(path, self.max_pixels) as image:
            try:
                converted = image.convert("L" if self.channels == 1 else "RGB")
            except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
                raise read_error(path, exc) from None
        if self.resize:
            size = self.resize if self.crop else [self.resize, self.resize]
            mode = functional.InterpolationMode(self.interpolation)
            converted = functional.resize(converted, size, interpolation=mode)
        if self.crop:
            converted = functional.center_crop(converted, [self.crop, self.crop])
        return functional.pil_to_tensor(converted).to(torch.float32).div_(255.0)


class FileImages:
    """A lazy N x C x H x W float32 image batch backed by files (tensor-like where the engine needs it).

    ``images[key]`` (int, slice, list or index tensor of positions) decodes just those images and
    returns a tensor; ``select(positions)`` narrows without decoding; ``decode_all()`` / ``to(...)``
    decode everything. ``shape``, ``dtype`` and ``len`` need no decoding.
    """

    dtype = torch.float32
    ndim = 4

    def __init__(self, paths: Sequence[str], decode: Preprocess, image_shape: tuple[int, int, int]) -> None:
        self.paths = tuple(paths)
        self.decode = decode
        self.image_shape = tuple(image_shape)

    def __len__(self) -> int:
        return len(self.paths)

    def __repr__(self) -> str:
        shape = "x".join(str(s) for s in self.image_shape)
        return f"FileImages({len(self)} images, {shape}, {self.decode.name})"

    @property
    def shape(self) -> torch.Size:
        return torch.Size((len(self), *self.image_shape))

    def positions(self, key) -> list[int]:
        if isinstance(key, slice):
            return list(range(len(self))[key])
        if isinstance(key, torch.Tensor):
            key = key.nonzero().flatten() if key.dtype == torch.bool else key.flatten()
            key = key.tolist()
        return [range(len(self))[int(p)] for p in key]

    def select(self, key) -> FileImages:
        """The images at these positions, still undecoded."""
        return FileImages([self.paths[p] for p in self.positions(key)], self.decode, self.image_shape)

    def __getitem__(self, key) -> torch.Tensor:
        """Decoded images: C x H x W for one integer position, N x C x H x W for a slice or positions."""
        if isinstance(key, (int, np.integer)) or (isinstance(key, torch.Tensor) and key.ndim == 0):
            return self.decode_path(self.paths[range(len(self))[int(key)]])
        return self.select(key).decode_all()

    def decode_path(self, path: str) -> torch.Tensor:
        image = self.decode(path)
        if tuple(image.shape) != self.image_shape:
            got = "x".join(str(s) for s in image.shape)
            raise RobenchError(
                f"{path} decodes to {got}, not the dataset's {'x'.join(map(str, self.image_shape))}"
            )
        return image

    def decode_all(self) -> torch.Tensor:
        out = torch.empty(self.shape, dtype=self.dtype)
        workers = min(DECODE_THREADS, os.cpu_count() or 1)  # each holds one decoded image at most
        if len(self) < PARALLEL_FROM or workers == 1:
            for row, path in enumerate(self.paths):
                out[row] = self.decode_path(path)
            return out
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for row, image in enumerate(pool.map(self.decode_path, self.paths)):
                out[row] = image
        return out

    def to(self, *args, **kwargs) -> torch.Tensor:
        return self.decode_all().to(*args, **kwargs)
