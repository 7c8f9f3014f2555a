"""MNIST, CIFAR-10, CIFAR-100 and SVHN through torchvision's dataset classes, read from a local root.

Nothing is downloaded (``download=False`` always). Files follow torchvision's own layout under the data
root, so an existing torchvision data folder works as is. Files that torchvision checksums (CIFAR, SVHN)
are verified before they are read: CIFAR batches are pickles, and only the official files get unpickled.
The canonical index of a sample is its position in torchvision's split.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass

import numpy as np
import torch

from robench.data.base import ImageDataset
from robench.errors import DatasetNotFoundError, RobenchError


@dataclass(frozen=True)
class _Spec:
    name: str
    title: str
    splits: tuple[str, ...]
    num_classes: int
    mean: tuple[float, ...]
    std: tuple[float, ...]
    torchvision_class: str

    def fetch(self, split: str) -> str:
        """The command that fetches this split on a connected machine."""
        where = f"split='{split}'" if self.name == "svhn" else f"train={split == 'train'}"
        call = f"d.{self.torchvision_class}('DATA_ROOT', {where}, download=True)"
        return f'python -c "import torchvision.datasets as d; {call}"'


SPECS = {
    "mnist": _Spec(
        "mnist", "MNIST", ("train", "test"), 10, (0.1307,), (0.3081,),
        "MNIST",
    ),
    "cifar10": _Spec(
        "cifar10", "CIFAR-10", ("train", "test"), 10,
        (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616),
        "CIFAR10",
    ),
    "cifar100": _Spec(
        "cifar100", "CIFAR-100", ("train", "test"), 100,
        (0.5071, 0.4865, 0.4409), (0.2673, 0.2564, 0.2762),
        "CIFAR100",
    ),
    "svhn": _Spec(
        "svhn", "SVHN", ("train", "test", "extra"), 10,
        (0.4377, 0.4438, 0.4728), (0.1980, 0.2010, 0.1970),
        "SVHN",
    ),
}  # fmt: skip


def _md5(path: str) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _required_files(name: str, split: str, root: str) -> list[tuple[str, str | None]]:
    """(path, expected md5 or None) of every file torchvision reads for this split."""
    from torchvision import datasets

    if name == "mnist":  # torchvision checks all four raw files, whichever split is read
        raw = os.path.join(root, "MNIST", "raw")
        names = [f"{p}-{k}-ubyte" for p in ("train", "t10k") for k in ("images-idx3", "labels-idx1")]
        return [(os.path.join(raw, n), None) for n in names]
    if name == "svhn":
        _, filename, md5 = datasets.SVHN.split_list[split]
        return [(os.path.join(root, filename), md5)]
    cls = datasets.CIFAR10 if name == "cifar10" else datasets.CIFAR100
    files = cls.train_list if split == "train" else cls.test_list
    folder = os.path.join(root, cls.base_folder)
    meta = (cls.meta["filename"], cls.meta["md5"])
    return [(os.path.join(folder, filename), md5) for filename, md5 in [*files, meta]]


def _check_files(spec: _Spec, split: str, root: str | None) -> str:
    if root is None:
        raise DatasetNotFoundError(
            f"{spec.title} needs a local data root: pass --data-root DIR or set ROBENCH_DATA "
            f"(nothing is downloaded at run time; on a connected machine run {spec.fetch(split)} "
            "and copy DATA_ROOT)"
        )
    root = os.path.expanduser(root)
    files = _required_files(spec.name, split, root)
    missing = [path for path, _ in files if not os.path.isfile(path)]
    if missing:
        raise DatasetNotFoundError(
            f"{spec.title} {split} split not found: missing {', '.join(missing)} "
            f"(nothing is downloaded at run time; on a connected machine run {spec.fetch(split)} "
            f"and copy DATA_ROOT's contents to {root})"
        )
    for path, md5 in files:
        if md5 is not None and _md5(path) != md5:
            raise DatasetNotFoundError(
                f"{path} is not the official {spec.title} file (md5 mismatch: corrupt, truncated or "
                f"replaced); fetch it again with {spec.fetch(split)}"
            )
    return root


def _torchvision_split(name: str, split: str, root: str):
    from torchvision import datasets

    if name == "mnist":
        return datasets.MNIST(root, train=split == "train", download=False)
    if name == "svhn":
        return datasets.SVHN(root, split=split, download=False)
    cls = datasets.CIFAR10 if name == "cifar10" else datasets.CIFAR100
    return cls(root, train=split == "train", download=False)


def _images_and_labels(name: str, tv_set) -> tuple[torch.Tensor, torch.Tensor]:
    """uint8 N x C x H x W images and int64 labels, in torchvision's order."""
    if name == "mnist":
        images = torch.as_tensor(tv_set.data).unsqueeze(1)
        labels = torch.as_tensor(tv_set.targets)
    elif name == "svhn":
        images = torch.from_numpy(np.ascontiguousarray(tv_set.data))  # already N x C x H x W
        labels = torch.from_numpy(np.asarray(tv_set.labels))
    else:
        images = torch.from_numpy(np.ascontiguousarray(tv_set.data)).permute(0, 3, 1, 2)
        labels = torch.as_tensor(np.asarray(tv_set.targets))
    return images, labels.to(torch.int64)


def load_torchvision_dataset(name: str, split: str = "test", root: str | None = None) -> ImageDataset:
    spec = SPECS[name]
    if split not in spec.splits:
        raise RobenchError(f"{name} has splits {', '.join(repr(s) for s in spec.splits)}, not '{split}'")
    root = _check_files(spec, split, root)
    images, labels = _images_and_labels(name, _torchvision_split(name, split, root))
    return ImageDataset(
        name=name,
        split=split,
        images=images.to(torch.float32).div_(255.0).contiguous(),
        labels=labels,
        indices=torch.arange(labels.shape[0], dtype=torch.int64),
        num_classes=spec.num_classes,
        mean=spec.mean,
        std=spec.std,
    )


def load_mnist(split: str = "test", root: str | None = None) -> ImageDataset:
    return load_torchvision_dataset("mnist", split, root)


def load_cifar10(split: str = "test", root: str | None = None) -> ImageDataset:
    return load_torchvision_dataset("cifar10", split, root)


def load_cifar100(split: str = "test", root: str | None = None) -> ImageDataset:
    return load_torchvision_dataset("cifar100", split, root)


def load_svhn(split: str = "test", root: str | None = None) -> ImageDataset:
    return load_torchvision_dataset("svhn", split, root)
