"""Fashion-MNIST (Xiao et al. 2017, Zalando): 60,000 train / 10,000 test 28x28 gray images, 10 classes.

Nothing is downloaded. The four IDX files are looked for, in order:

1. under the data root (``--data-root`` / ``ROBENCH_DATA``) in torchvision's layout,
   ``ROOT/FashionMNIST/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte`` (uncompressed, as torchvision
   leaves them, or the ``.gz`` it downloads);
2. in Debian's package ``dataset-fashion-mnist`` (``apt-get install dataset-fashion-mnist``), which puts
   the ``.gz`` files in :data:`DEBIAN_DIR`.

The first place holding both files of the split is used. IDX is a plain binary format (no pickle): a
header of magic number and sizes, then raw bytes; every header is checked against what follows and a
compressed file may not expand past the split's size. The canonical index of a sample is its position in
the file (torchvision's order). Pixel values are divided by 255.
"""

from __future__ import annotations

import gzip
import os
import struct
import zlib

import numpy as np
import torch

from robench.data.base import ImageDataset
from robench.errors import DatasetNotFoundError, RobenchError

DEBIAN_DIR = "/usr/share/datasets/fashion-mnist"
TORCHVISION_FOLDER = os.path.join("FashionMNIST", "raw")
SPLITS = {"train": "train", "test": "t10k"}  # split -> IDX file prefix
MAX_IMAGES = 60_000
SIDE = 28
NUM_CLASSES = 10
MEAN, STD = (0.2860,), (0.3530,)  # of the 60,000 training images
FETCH = (
    "python -c \"import torchvision.datasets as d; d.FashionMNIST('DATA_ROOT', train=True, download=True); "
    "d.FashionMNIST('DATA_ROOT', train=False, download=True)\""
)
_IDX = {"images": (0x0803, 3, "images-idx3-ubyte"), "labels": (0x0801, 1, "labels-idx1-ubyte")}


def _candidates(root: str | None) -> list[str]:
    folders = [os.path.join(os.path.expanduser(root), TORCHVISION_FOLDER)] if root else []
    return [*folders, DEBIAN_DIR]


def _find(folder: str, prefix: str, kind: str) -> str | None:
    """The split's file of this kind in ``folder``: uncompressed first, then ``.gz``; None if neither."""
    stem = os.path.join(folder, f"{prefix}-{_IDX[kind][2]}")
    return next((path for path in (stem, stem + ".gz") if os.path.isfile(path)), None)


def locate(split: str, root: str | None) -> tuple[str, str]:
    """(images file, labels file) of the split from the first place that has both, else one sentence."""
    prefix = SPLITS[split]
    for folder in _candidates(root):
        images, labels = _find(folder, prefix, "images"), _find(folder, prefix, "labels")
        if images and labels:
            return images, labels
    looked = " and ".join(_candidates(root))
    raise DatasetNotFoundError(
        f"Fashion-MNIST {split} split not found in {looked} (nothing is downloaded at run time): install "
        f"Debian's package with 'apt-get install dataset-fashion-mnist', or on a connected machine run "
        f"{FETCH} and pass --data-root DATA_ROOT (or set ROBENCH_DATA)"
    )


def _read_bytes(path: str, limit: int) -> bytes:
    """The file's bytes (decompressed for .gz), refusing more than ``limit`` bytes."""
    opener = gzip.open if path.endswith(".gz") else open
    try:
        with opener(path, "rb") as handle:
            data = handle.read(limit + 1)
    except (OSError, EOFError, zlib.error) as exc:  # a damaged .gz raises zlib.error
        raise RobenchError(f"cannot read Fashion-MNIST file {path}: {exc}") from None
    if len(data) > limit:
        raise RobenchError(f"{path} holds more than the {limit:,} bytes of a Fashion-MNIST IDX file")
    return data


def read_idx(path: str, kind: str) -> np.ndarray:
    """A uint8 IDX file of ``kind`` ("images": N x 28 x 28, "labels": N), checked against its header."""
    magic, ndim, _ = _IDX[kind]
    header = 4 + 4 * ndim
    limit = header + MAX_IMAGES * (SIDE * SIDE if kind == "images" else 1)
    data = _read_bytes(path, limit)
    if len(data) < header or struct.unpack(">I", data[:4])[0] != magic:
        raise RobenchError(f"{path} is not an IDX {kind} file (its magic number is not {magic:#010x})")
    shape = struct.unpack(f">{ndim}I", data[4:header])
    if kind == "images" and shape[1:] != (SIDE, SIDE):
        raise RobenchError(f"{path} holds {shape[1]}x{shape[2]} images, not Fashion-MNIST's 28x28")
    if len(data) - header != int(np.prod(shape)):
        raise RobenchError(f"{path} is truncated or padded: its header says {shape}, its data does not match")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(shape)


def load_fashion_mnist(split: str = "test", root: str | None = None) -> ImageDataset:
    if split not in SPLITS:
        raise RobenchError(f"fashion-mnist has splits 'train' and 'test', not '{split}'")
    images_path, labels_path = locate(split, root)
    images, labels = read_idx(images_path, "images"), read_idx(labels_path, "labels")
    if images.shape[0] != labels.shape[0]:
        raise RobenchError(
            f"{images_path} holds {images.shape[0]} images but {labels_path} {labels.shape[0]} labels"
        )
    if labels.size and int(labels.max()) >= NUM_CLASSES:
        raise RobenchError(f"{labels_path} holds label {int(labels.max())}; Fashion-MNIST's are 0-9")
    return ImageDataset(
        name="fashion-mnist",
        split=split,
        images=torch.from_numpy(images.copy()).unsqueeze(1).to(torch.float32).div_(255.0),
        labels=torch.from_numpy(labels.astype(np.int64)),
        indices=torch.arange(labels.shape[0], dtype=torch.int64),
        num_classes=NUM_CLASSES,
        mean=MEAN,
        std=STD,
    )
