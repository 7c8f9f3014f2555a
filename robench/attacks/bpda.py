"""BPDA (Athalye et al. 2018), generically: APGD through the model's straight-through surrogate.

``bpda-apgd-K[xR]`` (APGD-CE, ``loss="dlr"`` for DLR) and ``bpda-apgd-t-KxT`` (targeted APGD) attack
``StraightThrough(model)`` (robench.attacks.straight_through): the true forward, with rounding,
thresholds, argmax/one-hot, detach and no-grad regions passing the gradient straight through. Where the
model has none of these the surrogate is the model itself and the attack is plain APGD.
"""

from __future__ import annotations

import torch
from torch import nn

from robench.attacks.straight_through import StraightThrough
from robench.attacks.surrogate import Surrogated


class BPDA(Surrogated):
    family = "bpda-apgd"

    def surrogate(self, model: nn.Module, seeds: torch.Tensor) -> nn.Module:
        return StraightThrough(model)


bpda_apgd = BPDA.apgd  # registered factories: the surrogate's APGD and targeted APGD
bpda_apgd_t = BPDA.apgd_t
