"""Datasets. Loaders read local files and never download; ``digits`` ships with scikit-learn.

Named datasets (``DATASETS``): digits, mnist, cifar10, cifar100, svhn (robench.data.torchvision_sets),
fashion-mnist (robench.data.fashion_mnist) and imagenet (robench.data.imagenet), read under the data
root (``root`` argument, else ``ROBENCH_DATA``; fashion-mnist also from Debian's package). Path kinds
(``DATASET_KINDS``): ``folder:DIR`` (robench.data.folder) and ``file:PATH`` (robench.data.array_file).
``package.module:function`` calls a user loader (robench.data.user). ``DataSpec(...).load()`` is the
entry point; ``load_dataset`` is its shorthand.
"""

from __future__ import annotations

from robench.data.base import ImageDataset
from robench.data.catalog import DATASET_KINDS, DATASETS, data_root
from robench.data.defaults import DEFAULT_EPS, default_eps
from robench.data.lazy import FileImages
from robench.data.spec import DataSpec


def load_dataset(name: str, split: str = "test", root: str | None = None, **options) -> ImageDataset:
    """``DataSpec(spec=name, split=split, root=root, **options).load()`` (a name typed by the user)."""
    return DataSpec(spec=name, split=split, root=root, **options).load()


__all__ = [
    "DATASETS",
    "DATASET_KINDS",
    "DEFAULT_EPS",
    "DataSpec",
    "FileImages",
    "ImageDataset",
    "data_root",
    "default_eps",
    "load_dataset",
]
