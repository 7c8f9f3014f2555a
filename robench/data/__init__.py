"""Datasets. Loaders read local files and never download; ``digits`` ships with scikit-learn.

Named datasets (``DATASETS``): digits, mnist, cifar10, cifar100, svhn (robench.data.torchvision_sets),
fashion-mnist (robench.data.fashion_mnist) and imagenet (robench.data.imagenet), read under the data
root (``root`` argument, else ``ROBENCH_DATA``; fashion-mnist also from Debian's package). Path kinds
(``DATASET_KINDS``): ``folder:DIR`` (robench.data.folder) and ``file:PATH`` (robench.data.array_file).
``package.module:function`` calls a user loader (robench.data.user). ``DataSpec(...).load()`` is the
entry point; ``load_dataset`` is its shorthand.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from robench.registry import lazy_attributes

if TYPE_CHECKING:
    from robench.data.base import ImageDataset

__getattr__ = lazy_attributes(  # imported on first use: ``import robench.data`` does not import torch
    __name__,
    {
        "ImageDataset": "robench.data.base",
        "DATASET_KINDS": "robench.data.catalog",
        "DATASETS": "robench.data.catalog",
        "data_root": "robench.data.catalog",
        "DEFAULT_EPS": "robench.data.defaults",
        "default_eps": "robench.data.defaults",
        "FileImages": "robench.data.lazy",
        "DataSpec": "robench.data.spec",
    },
)


def load_dataset(name: str, split: str = "test", root: str | None = None, **options) -> ImageDataset:
    """``DataSpec(spec=name, split=split, root=root, **options).load()`` (a name typed by the user)."""
    from robench.data.spec import DataSpec

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
