"""BPDA, generically, for the diagnostics: ``StraightThrough`` is robench.attacks.straight_through's
(rounding, thresholds, argmax/one-hot, ``detach`` and no-grad regions pass the gradient straight
through; the forward is the model's own), and ``LogOutput`` attacks a probabilities model's logarithm.
Steps that leave torch (numpy, PIL, JPEG encoders) cannot be bridged generically: for those only the
black-box stage still works.
"""

from __future__ import annotations

import torch
from torch import nn

from robench.attacks.straight_through import StraightThrough

__all__ = ["LogOutput", "StraightThrough"]


class LogOutput(nn.Module):
    """For a model that outputs probabilities: attack their logarithm, which behaves like logits."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x).clamp_min(1e-30).log()
