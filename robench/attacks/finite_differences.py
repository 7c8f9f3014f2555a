"""APGD on exact coordinate-wise finite-difference gradients: for a gradient that exists but lies.

``fd-apgd-K[xR]`` (APGD-CE) and ``fd-apgd-t-KxT`` (targeted APGD) attack a surrogate whose forward is the
model's and whose backward is the central difference (f(x + h e_i) - f(x - h e_i)) / 2h along every input
coordinate e_i: the gradient of the function the model computes, whatever its backward says (a decoy
gradient, a broken custom autograd function). A gradient costs 2 x (input size) forwards per point, so it
suits small inputs (8x8 digits: 128); ``spsa-apgd`` estimates it with fewer queries on larger ones.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from robench.attacks.surrogate import GradientEstimate, Surrogated

STEP = 1e-3  # h: small against eps, large against float32 rounding of the logits


class FiniteDifferences(GradientEstimate):
    def __init__(self, model: nn.Module, h: float = STEP) -> None:
        super().__init__(model)
        self.h = h

    def vjp(self, x: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        size = math.prod(x.shape[1:])
        grad = torch.zeros(x.shape[0], size, device=x.device, dtype=x.dtype)
        per_call = max(1, self.chunk // max(2 * x.shape[0], 1))
        for start in range(0, size, per_call):
            block = torch.arange(start, min(size, start + per_call), device=x.device)
            basis = torch.zeros(block.numel(), size, device=x.device, dtype=x.dtype)
            basis[torch.arange(block.numel(), device=x.device), block] = 1.0
            directions = basis.view(1, block.numel(), *x.shape[1:]).expand(x.shape[0], -1, *x.shape[1:])
            grad[:, block] = self.central(x, v, directions, self.h).to(x.dtype)
        return grad.view_as(x)


class FDAttack(Surrogated):
    family = "fd-apgd"

    def surrogate(self, model: nn.Module, seeds: torch.Tensor) -> nn.Module:
        return FiniteDifferences(model)


fd_apgd = FDAttack.apgd  # registered factories: the surrogate's APGD and targeted APGD
fd_apgd_t = FDAttack.apgd_t
