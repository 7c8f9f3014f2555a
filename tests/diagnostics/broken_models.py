"""Deliberately broken models for the diagnostics tests, each a working digits CNN with one defect.

``BrokenCNN`` is an ``nn.Sequential`` with small_cnn's layers (so small_cnn checkpoints load into it)
and one defect in its forward: ``round`` quantises the input to 4 levels, ``detach`` cuts the graph,
``numpy`` quantises in numpy (outside torch), ``scale`` multiplies the logits by 1e4, ``softmax``
returns probabilities, ``dropout`` keeps dropout (p 0.5) active at test time on the penultimate
features, ``nan`` returns NaN off the digits' 1/16 pixel grid (i.e. on every perturbed input).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from robench.models.archs.small_cnn import small_cnn
from robench.threat import ThreatModel

THREAT = ThreatModel("linf", 0.3)
DEFECTS = ("round", "detach", "numpy", "scale", "softmax", "dropout", "nan")


class BrokenCNN(nn.Sequential):
    def __init__(self, *layers: nn.Module, defect: str) -> None:
        super().__init__(*layers)
        self.defect = defect
        self.eval()

    @classmethod
    def of(cls, net: nn.Sequential, defect: str) -> BrokenCNN:
        """The same layers (shared parameters) as ``net``, with the defect."""
        return cls(*net.children(), defect=defect)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        inputs = x
        if self.defect == "round":
            x = torch.round(x * 4) / 4
        if self.defect == "detach":
            x = x.detach()
        if self.defect == "numpy":  # a preprocessing step outside torch: no BPDA can bridge it generically
            x = torch.from_numpy(np.round(x.detach().cpu().numpy() * 4) / 4).to(x.device)
        *body, head = list(self.children())
        for layer in body:
            x = layer(x)
        if self.defect == "dropout":
            x = F.dropout(x, 0.5, training=True)
        logits = head(x)
        if self.defect == "scale":
            return logits * 1e4
        if self.defect == "softmax":
            return logits.softmax(1)
        if self.defect == "nan":  # digits pixels are multiples of 1/16; a perturbed input leaves that grid
            off_grid = (inputs * 16 - torch.round(inputs * 16)).abs().flatten(1).amax(1).detach() > 1e-3
            return torch.where(off_grid[:, None], torch.full_like(logits, float("nan")), logits)
        return logits


def broken_cnn(
    num_classes: int = 10, in_channels: int = 1, width: int = 16, defect: str = "round"
) -> BrokenCNN:
    """Architecture factory (``broken_models:broken_cnn``) for model cards in the CLI test."""
    return BrokenCNN(*small_cnn(num_classes, in_channels, width).children(), defect=defect)
