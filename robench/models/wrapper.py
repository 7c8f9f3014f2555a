"""Mean/std normalisation inside the model, so every attack works in [0, 1] input space."""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import torch
from torch import nn

from robench.models.normalization import check_mean_std


class Normalized(nn.Module):
    """``Normalized(net, mean, std)(x) == net((x - mean) / std)``; state dict keys are the net's own."""

    def __init__(self, net: nn.Module, mean: Sequence[float], std: Sequence[float]) -> None:
        super().__init__()
        self.net = net
        shape = (1, len(mean), 1, 1)
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(shape), persistent=False)
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).view(shape), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net((x - self.mean) / self.std)


def normalize(net: nn.Module, mean: Sequence[float], std: Sequence[float]) -> nn.Module:
    """Wrap net unless the normalisation is the identity (checked: robench.models.normalization)."""
    check_mean_std(mean, std, "the normalisation")
    if all(m == 0 for m in mean) and all(s == 1 for s in std):
        return net
    return Normalized(net, mean, std)


def prepare_for_eval(model: nn.Module, *, quiet: bool = False) -> nn.Module:
    """Eval mode, parameter gradients off. A model handed over in train mode is switched, and we say so."""
    if model.training and not quiet:
        warnings.warn("model was in train mode; robench switched it to eval mode", stacklevel=2)
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model
