"""BPDA (Athalye et al. 2018), generically: APGD through the model's straight-through surrogate.

``bpda-apgd-K[xR]`` (APGD-CE, ``loss="dlr"`` for DLR) and ``bpda-apgd-t-KxT`` (targeted APGD) attack
``StraightThrough(model)`` (robench.attacks.straight_through): the true forward, with rounding,
thresholds, argmax/one-hot, detach and no-grad regions passing the gradient straight through. Where the
model has none of these the surrogate is the model itself and the attack is plain APGD.
"""

from __future__ import annotations

import torch
from torch import nn

from robench.attacks.apgd import STEPS
from robench.attacks.straight_through import StraightThrough
from robench.attacks.surrogate import Surrogated, inner_apgd, inner_apgd_t
from robench.threat import ThreatModel


class BPDA(Surrogated):
    family = "bpda-apgd"

    def surrogate(self, model: nn.Module, seeds: torch.Tensor) -> nn.Module:
        return StraightThrough(model)


def bpda_apgd(
    threat: ThreatModel,
    spec: str | None = None,
    *,
    steps: int = STEPS,
    restarts: int = 1,
    loss: str = "ce",
    eot_samples: int = 1,
) -> BPDA:
    spec = spec or "bpda-apgd"
    inner = inner_apgd(threat, spec, steps=steps, restarts=restarts, loss=loss, eot_samples=eot_samples)
    return BPDA(threat, spec, inner=inner)


def bpda_apgd_t(
    threat: ThreatModel,
    spec: str | None = None,
    *,
    steps: int = STEPS,
    targets: int = 3,
    eot_samples: int = 1,
) -> BPDA:
    spec = spec or "bpda-apgd-t"
    return BPDA(
        threat, spec, inner=inner_apgd_t(threat, spec, steps=steps, targets=targets, eot_samples=eot_samples)
    )
