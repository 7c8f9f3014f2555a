"""The dataset registries: named datasets (``DATASETS``) and path-taking kinds (``DATASET_KINDS``)."""

from __future__ import annotations

import os

from robench.registry import Registry

DATASETS: Registry = Registry("dataset")
DATASETS.add("digits", "robench.data.digits:load_digits_dataset")
for _name in ("mnist", "cifar10", "cifar100", "svhn"):
    DATASETS.add(_name, f"robench.data.torchvision_sets:load_{_name}")
DATASETS.add("fashion-mnist", "robench.data.fashion_mnist:load_fashion_mnist")
DATASETS.add("imagenet", "robench.data.imagenet:load_imagenet")

DATASET_KINDS: Registry = Registry("dataset kind")
DATASET_KINDS.add("folder", "robench.data.folder:load_folder_dataset")
DATASET_KINDS.add("file", "robench.data.array_file:load_array_file")


def data_root(root: str | None = None) -> str | None:
    """The local data root: the explicit argument, else the ROBENCH_DATA environment variable."""
    return root or os.environ.get("ROBENCH_DATA")
