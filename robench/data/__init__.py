"""Dataset registry. Loaders read a local root and never download; ``digits`` ships with scikit-learn.

``mnist``, ``cifar10``, ``cifar100`` and ``svhn`` read torchvision's on-disk layout under the data root
(``root`` argument, else ``ROBENCH_DATA``); see robench.data.torchvision_sets.
"""

from __future__ import annotations

import os

from robench.data.base import ImageDataset
from robench.registry import Registry

DATASETS: Registry = Registry("dataset")
DATASETS.add("digits", "robench.data.digits:load_digits_dataset")
for _name in ("mnist", "cifar10", "cifar100", "svhn"):
    DATASETS.add(_name, f"robench.data.torchvision_sets:load_{_name}")


def data_root(root: str | None = None) -> str | None:
    """The local data root: the explicit argument, else the ROBENCH_DATA environment variable."""
    return root or os.environ.get("ROBENCH_DATA")


def load_dataset(name: str, split: str = "test", root: str | None = None) -> ImageDataset:
    return DATASETS.get(name)(split=split, root=data_root(root))


__all__ = ["DATASETS", "ImageDataset", "data_root", "load_dataset"]
