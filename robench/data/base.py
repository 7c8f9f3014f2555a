"""The in-memory image dataset every loader returns, and deterministic evaluation subsets."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace

import torch

from robench.errors import RobenchError


@dataclass(frozen=True)
class ImageDataset:
    """Images in [0, 1] (float32, N x C x H x W), labels, and each sample's canonical dataset index."""

    name: str
    split: str
    images: torch.Tensor
    labels: torch.Tensor
    indices: torch.Tensor
    num_classes: int
    mean: tuple[float, ...]
    std: tuple[float, ...]

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.images.shape[1:])

    def take(self, positions: torch.Tensor) -> ImageDataset:
        """The samples at these positions (not canonical indices) of this dataset."""
        return replace(
            self,
            images=self.images[positions],
            labels=self.labels[positions],
            indices=self.indices[positions],
        )

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
