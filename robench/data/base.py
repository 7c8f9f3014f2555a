"""The image dataset every loader returns, deterministic evaluation subsets, and the data's identity.

Identity: ``spec`` is what the user asked for (paths made absolute), ``name`` a short board-safe name,
``preprocessing`` what was done to the stored images, ``subset_sha256()`` hashes the canonical indices
and ``fingerprint()`` hashes the pixels and labels actually held (after any subset).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace

import numpy as np
import torch

from robench.data.lazy import FileImages
from robench.errors import RobenchError

FINGERPRINT_VERSION = b"robench-data-fingerprint-v1\n"
FINGERPRINT_BATCH = 256


@dataclass(frozen=True)
class ImageDataset:
    """Images in [0, 1] (float32, N x C x H x W), labels, and each sample's canonical dataset index.

    ``images`` is a tensor, or for file-backed datasets (folder:, imagenet) a :class:`FileImages` that
    decodes only what is indexed: ``images[positions]`` gives a tensor; ``materialize()`` decodes all.
    ``missing`` counts samples of the split's definition that were not found on disk (imagenet).
    """

    name: str
    split: str
    images: torch.Tensor | FileImages
    labels: torch.Tensor
    indices: torch.Tensor
    num_classes: int
    mean: tuple[float, ...]
    std: tuple[float, ...]
    spec: str = ""
    preprocessing: str = "none"
    missing: int = 0

    def __post_init__(self) -> None:
        if not self.spec:
            object.__setattr__(self, "spec", self.name)

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.images.shape[1:])

    @property
    def is_lazy(self) -> bool:
        """Whether images are decoded from files on access (see :meth:`materialize`)."""
        return isinstance(self.images, FileImages)

    def take(self, positions: torch.Tensor) -> ImageDataset:
        """The samples at these positions (not canonical indices) of this dataset; lazy stays lazy."""
        images = self.images.select(positions) if self.is_lazy else self.images[positions]
        return replace(self, images=images, labels=self.labels[positions], indices=self.indices[positions])

    def materialize(self) -> ImageDataset:
        """This dataset with every image decoded into one tensor (itself when already in memory)."""
        return replace(self, images=self.images.decode_all()) if self.is_lazy else self

    def subset(self, n: int | None, seed: int = 0) -> ImageDataset:
        """A deterministic subset of n samples for this seed, ordered by canonical index.

        The same (dataset, split, n, seed) always gives the same points, on any machine.
        """
        total = len(self)
        if n is None or n == total:
            return self
        if n <= 0:
            raise RobenchError(f"--n must be positive, got {n}")
        if n > total:
            raise RobenchError(f"--n {n} is larger than the {total} samples of {self.name}/{self.split}")
        generator = torch.Generator().manual_seed(int(seed))
        chosen = torch.randperm(total, generator=generator)[:n]
        chosen = chosen[torch.argsort(self.indices[chosen])]
        return self.take(chosen)

    def subset_sha256(self) -> str:
        """Hash of the canonical indices, identifying the exact evaluation points."""
        return hashlib.sha256(self.indices.to(torch.int64).numpy().tobytes()).hexdigest()

    def fingerprint(self) -> str:
        """sha256 of the data held, in order: shape, float32 pixels, int64 labels (not the indices).

        Equal images and labels give equal fingerprints whatever the source (an .npz of the digits test
        images matches ``digits``); a lazy dataset is decoded batch by batch to compute it.
        """
        digest = hashlib.sha256(FINGERPRINT_VERSION)
        digest.update(np.asarray((len(self), *self.input_shape), dtype="<i8").tobytes())
        for start in range(0, len(self), FINGERPRINT_BATCH):
            chunk = self.images[start : start + FINGERPRINT_BATCH]
            digest.update(chunk.detach().cpu().contiguous().numpy().astype("<f4", copy=False).tobytes())
        digest.update(self.labels.detach().cpu().numpy().astype("<i8").tobytes())
        return digest.hexdigest()
