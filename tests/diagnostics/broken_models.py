"""Deliberately broken models for the diagnostics tests, each built on a working digits CNN."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class Broken(nn.Module):
    """``net`` with one defect: ``round`` quantises the input to 4 levels, ``detach`` cuts the graph,
    ``scale`` multiplies the logits by 1e4, ``softmax`` returns probabilities, ``dropout`` keeps
    dropout (p 0.5) active at test time on the penultimate features, ``nan`` returns NaN off the
    digits' 1/16 pixel grid (i.e. on every perturbed input)."""

    def __init__(self, net: nn.Sequential, defect: str) -> None:
        super().__init__()
        self.net, self.defect = net, defect
        self.eval()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.defect == "round":
            x = torch.round(x * 4) / 4
        if self.defect == "detach":
            x = x.detach()
        if self.defect == "dropout":
            return self.net[-1](F.dropout(self.net[:-1](x), 0.5, training=True))
        logits = self.net(x)
        if self.defect == "scale":
            return logits * 1e4
        if self.defect == "softmax":
            return logits.softmax(1)
        if self.defect == "nan":  # digits pixels are multiples of 1/16: any perturbation leaves that grid
            off_grid = ((x * 16 - torch.round(x * 16)).abs().flatten(1).amax(1) > 1e-3).detach()
            return torch.where(off_grid[:, None], torch.full_like(logits, float("nan")), logits)
        return logits
