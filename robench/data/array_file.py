"""``file:PATH``: images and labels stored as named arrays in an .npz, .pt or .safetensors file.

Key names (exactly one of each group): images under ``images``, ``x``, ``x_test`` or ``data``; labels
under ``labels``, ``y``, ``y_test`` or ``targets``; optionally ``num_classes`` (an integer) and
``indices`` (each row's canonical index: unique integers >= 0; default: the row). Other keys are
ignored. A .pt file may also hold an ``(images, labels)`` pair. Files are untrusted input: .npz is read
with ``allow_pickle=False``, .pt only with ``torch.load(weights_only=True)`` (no fallback), and
.safetensors holds tensors only. Image formats are those of robench.data.arrays.
"""

from __future__ import annotations

import os
import pickle
import warnings
import zipfile
import zlib

import numpy as np
import torch

from robench.core.limits import ARRAY_EXPANSION, zip_expansion
from robench.data.arrays import checked_images, checked_labels, class_count
from robench.data.base import ImageDataset
from robench.data.identity import board_name
from robench.errors import DatasetNotFoundError, RobenchError

IMAGE_KEYS = ("images", "x", "x_test", "data")
LABEL_KEYS = ("labels", "y", "y_test", "targets")
NUM_CLASSES_KEY = "num_classes"
INDICES_KEY = "indices"
SUFFIXES = (".npz", ".pt", ".pth", ".safetensors")


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def npz_error(path: str, exc: BaseException, member: bool) -> RobenchError:
    if member and "pickle" in str(exc):
        return RobenchError(
            f"{path} holds pickled objects; robench reads .npz files with allow_pickle=False "
            "(store plain numeric arrays)"
        )
    if "pickle" in str(exc):
        return RobenchError(
            f"{path} is not an .npz archive (reading it would unpickle it; robench never does)"
        )
    return RobenchError(f"{path} is not a readable .npz file ({first_line(exc)})")


def read_npz(path: str) -> dict:
    """The wanted arrays; other keys map to None (listed in messages, never read)."""
    try:
        archive = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        raise npz_error(path, exc, member=False) from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise RobenchError(f"{path} holds a single array, not named arrays (save with np.savez)")
    wanted = (*IMAGE_KEYS, *LABEL_KEYS, NUM_CLASSES_KEY, INDICES_KEY)
    with archive:
        try:
            return {key: archive[key] if key in wanted else None for key in archive.files}
        except (ValueError, OSError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
            raise npz_error(path, exc, member=True) from None


def read_pt(path: str) -> dict:
    try:
        with warnings.catch_warnings():  # a pickle-protocol notice is not the user's concern
            warnings.simplefilter("ignore", UserWarning)
            content = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        raise RobenchError(
            f"{path} holds objects other than tensors, lists and dicts; robench reads .pt files only with "
            "torch.load(weights_only=True) (save {'images': tensor, 'labels': tensor})"
        ) from None
    except (RuntimeError, OSError, EOFError, ValueError) as exc:
        raise RobenchError(f"{path} is not a readable .pt file ({first_line(exc)})") from None
    if isinstance(content, (tuple, list)) and len(content) == 2:
        return {"images": content[0], "labels": content[1]}
    if not isinstance(content, dict):
        raise RobenchError(f"{path} holds a {type(content).__name__}, not a dict of named tensors")
    return content


def read_safetensors(path: str) -> dict:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        return load_file(path)
    except (SafetensorError, OSError, ValueError) as exc:
        raise RobenchError(f"{path} is not a readable .safetensors file ({first_line(exc)})") from None


def pick(content: dict, keys: tuple[str, ...], what: str, path: str):
    found = [key for key in keys if key in content]
    if not found:
        held = ", ".join(sorted(map(str, content))) or "nothing"
        raise RobenchError(f"{path} has no {what} array: expected one of {', '.join(keys)} (it holds {held})")
    if len(found) > 1:
        raise RobenchError(f"{path} holds both '{found[0]}' and '{found[1]}'; keep one {what} array")
    return content[found[0]]


def stored_class_count(content: dict, path: str) -> int | None:
    if NUM_CLASSES_KEY not in content:
        return None
    value = torch.as_tensor(np.asarray(content[NUM_CLASSES_KEY]))
    if value.numel() != 1 or value.dtype.is_floating_point or value.dtype == torch.bool or int(value) < 1:
        raise RobenchError(f"{path}: num_classes must be one positive integer")
    return int(value)


def stored_indices(content: dict, count: int, path: str) -> torch.Tensor:
    """The ``indices`` array (unique integers >= 0, one per image), else the row numbers."""
    if INDICES_KEY not in content:
        return torch.arange(count, dtype=torch.int64)
    indices = checked_labels(content[INDICES_KEY], count, path, "indices")
    if len(torch.unique(indices)) != count:
        raise RobenchError(f"{path}: indices repeat; each image needs its own canonical index")
    return indices


def read_arrays(path: str) -> dict:
    if not os.path.isfile(path):
        raise DatasetNotFoundError(f"dataset file {path} not found")
    suffix = os.path.splitext(path)[1].lower()
    if suffix not in SUFFIXES:
        raise RobenchError(
            f"{path}: robench reads image arrays from {', '.join(SUFFIXES)} files, not '{suffix}'"
        )
    problem = zip_expansion(path, ARRAY_EXPANSION) if suffix != ".safetensors" else None
    if problem is not None:
        raise RobenchError(f"{path} {problem}")
    reader = {".npz": read_npz, ".safetensors": read_safetensors}.get(suffix, read_pt)
    return reader(path)


def load_array_file(
    path: str,
    split: str = "test",
    channels: int | None = None,
    num_classes: int | None = None,
) -> ImageDataset:
    path = os.path.abspath(os.path.expanduser(path))
    content = read_arrays(path)
    images, conversion = checked_images(pick(content, IMAGE_KEYS, "images", path), path, channels)
    labels = checked_labels(pick(content, LABEL_KEYS, "labels", path), images.shape[0], path)
    stored = stored_class_count(content, path)
    classes = class_count(labels, num_classes if num_classes is not None else stored, path)
    count = images.shape[1]
    return ImageDataset(
        name=board_name("file", os.path.splitext(os.path.basename(path))[0]),
        split=split,
        images=images,
        labels=labels,
        indices=stored_indices(content, len(labels), path),
        num_classes=classes,
        mean=(0.0,) * count,
        std=(1.0,) * count,
        spec=f"file:{path}",
        preprocessing=conversion,
    )
