"""Training data: the held-out validation split, batch order and augmentation.

Validation split (documented contract): from the dataset's ``train`` split, the validation points are
``train.subset(val_size, seed=VALIDATION_SEED)`` -- a deterministic choice ordered by canonical index,
the same on every machine -- and the trainer never trains on them. ``val_size`` defaults to 10 % of
the train split, at most 1,000 (Rice et al. hold out 1,000 CIFAR-10 images). The test split is never
touched by training.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from robench.data import ImageDataset, load_dataset
from robench.errors import RobenchError

VALIDATION_SEED = 20_240_601
CROP_PADDING = 4


def default_val_size(n_train: int) -> int:
    return max(1, min(1000, n_train // 10))


def train_val_split(
    dataset: str, val_size: int | None, root: str | None, train_size: int | None = None
) -> tuple[ImageDataset, ImageDataset]:
    """(training points, validation points); ``train_size`` keeps a deterministic subset for training."""
    full = load_dataset(dataset, split="train", root=root)
    size = val_size or default_val_size(len(full))
    if size >= len(full):
        raise RobenchError(f"--val-size {size} leaves no training data in the {len(full)} train samples")
    val = full.subset(size, seed=VALIDATION_SEED)
    is_val = torch.isin(full.indices, val.indices)
    train = full.take(torch.nonzero(~is_val).flatten())
    if train_size is not None and train_size < len(train):
        train = train.subset(train_size, seed=VALIDATION_SEED + 1)
    return train, val


def monitor_points(val: ImageDataset, n: int) -> ImageDataset:
    """The fixed validation sample evaluated every epoch."""
    return val.subset(min(n, len(val)), seed=0)


def epoch_order(n: int, generator: torch.Generator) -> torch.Tensor:
    return torch.randperm(n, generator=generator)


def default_augment(images: torch.Tensor) -> bool:
    """Random crop + flip suits CIFAR-style natural images (>= 32 px), not digits."""
    return images.shape[-1] >= 32


def augment_batch(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Random crop with 4-pixel zero padding and random horizontal flip, per sample."""
    n, _, h, w = x.shape
    pad = CROP_PADDING
    padded = F.pad(x, (pad, pad, pad, pad))
    top = torch.randint(0, 2 * pad + 1, (n,), generator=generator)
    left = torch.randint(0, 2 * pad + 1, (n,), generator=generator)
    flip = torch.rand(n, generator=generator) < 0.5
    rows = (top[:, None] + torch.arange(h)).to(x.device)
    cols = (left[:, None] + torch.arange(w)).to(x.device)
    batch = torch.arange(n, device=x.device)[:, None, None, None]
    channel = torch.arange(x.shape[1], device=x.device)[None, :, None, None]
    cropped = padded[batch, channel, rows[:, None, :, None], cols[:, None, None, :]]
    return torch.where(flip.to(x.device)[:, None, None, None], cropped.flip(3), cropped)
