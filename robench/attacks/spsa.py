"""APGD on SPSA gradient estimates (Spall 1992; Uesato et al. 2018): finite differences along random
directions, for inputs too large for coordinate-wise differences.

``spsa-apgd-K[xR]`` attacks a surrogate whose forward is the model's and whose backward is the mean over
``samples`` Rademacher directions u of u (v·f(x + h u) - v·f(x - h u)) / 2h. The directions are drawn per
call from ``batch_seed(seeds)`` (``batch_random``: the engine calls it on fixed blocks of points).
"""

from __future__ import annotations

import torch
from torch import nn

from robench.attacks.apgd import STEPS
from robench.attacks.surrogate import GradientEstimate, Surrogated, inner_apgd
from robench.core.seeding import batch_seed
from robench.threat import ThreatModel

SAMPLES = 64  # directions per gradient estimate (2 x SAMPLES forwards per point and step)
STEP = 1e-2


class SPSAEstimate(GradientEstimate):
    def __init__(self, model: nn.Module, generator: torch.Generator, samples: int = SAMPLES) -> None:
        super().__init__(model)
        self.generator, self.samples = generator, samples

    def vjp(self, x: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        shape = (x.shape[0], self.samples, *x.shape[1:])
        signs = torch.randint(0, 2, shape, generator=self.generator).to(device=x.device, dtype=x.dtype)
        directions = signs * 2 - 1
        slopes = self.central(x, v, directions, STEP).to(x.dtype)
        return (slopes.view(*slopes.shape, *([1] * (x.dim() - 1))) * directions).mean(1)


class SPSA(Surrogated):
    family = "spsa-apgd"
    batch_random = True

    def __init__(
        self, threat: ThreatModel, spec: str | None = None, *, inner, samples: int = SAMPLES
    ) -> None:
        super().__init__(threat, spec, inner=inner)
        self.samples = samples

    def surrogate(self, model: nn.Module, seeds: torch.Tensor) -> nn.Module:
        generator = torch.Generator().manual_seed(batch_seed(seeds))
        return SPSAEstimate(model, generator, self.samples)


def spsa_apgd(
    threat: ThreatModel,
    spec: str | None = None,
    *,
    steps: int = STEPS,
    restarts: int = 1,
    loss: str = "ce",
    samples: int = SAMPLES,
    eot_samples: int = 1,
) -> SPSA:
    spec = spec or "spsa-apgd"
    inner = inner_apgd(threat, spec, steps=steps, restarts=restarts, loss=loss, eot_samples=eot_samples)
    return SPSA(threat, spec, inner=inner, samples=samples)
