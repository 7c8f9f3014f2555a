"""Threat models: an Lp ball of radius eps around x, intersected with the [0, 1] input box."""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING

from robench.errors import RobenchError

if TYPE_CHECKING:  # only tensors' own methods are used: importing this module does not import torch
    import torch

NORMS = ("linf", "l2")


def parse_eps(value: str | float) -> float:
    """Accept ``0.3``, ``"0.3"`` or ``"8/255"``; the exact float is what gets recorded."""
    if isinstance(value, bool):  # a bool is an int to Python, never a radius
        raise RobenchError(f"eps {value!r} is not a number or a fraction such as 8/255")
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value).strip()
    try:
        return float(Fraction(text)) if "/" in text else float(text)
    except (ValueError, ZeroDivisionError):
        raise RobenchError(f"eps '{value}' is not a number or a fraction such as 8/255") from None


@dataclass(frozen=True)
class ThreatModel:
    norm: str
    eps: float

    def __post_init__(self) -> None:
        if self.norm not in NORMS:
            raise RobenchError(f"unknown threat model '{self.norm}' (choose linf or l2)")
        if not math.isfinite(self.eps) or not self.eps > 0:
            raise RobenchError(f"eps must be positive and finite, got {self.eps}")
        if self.norm == "linf" and self.eps > 1:
            raise RobenchError(f"linf eps {self.eps} is larger than the [0,1] input range")

    @classmethod
    def parse(cls, norm: str, eps: str | float) -> ThreatModel:
        return cls(norm.lower(), parse_eps(eps))

    def distance(self, x_adv: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Per-sample distance in this norm."""
        delta = (x_adv - x).flatten(1)
        return delta.abs().amax(1) if self.norm == "linf" else delta.norm(p=2, dim=1)

    def project(self, x_adv: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Project onto the eps ball around x, then clip to [0, 1]."""
        delta = x_adv - x
        if self.norm == "linf":
            delta = delta.clamp(-self.eps, self.eps)
        else:
            norms = delta.flatten(1).norm(p=2, dim=1).clamp_min(1e-12)
            factor = (self.eps / norms).clamp(max=1.0)
            delta = delta * factor.view(-1, *([1] * (x.dim() - 1)))
        return (x + delta).clamp(0.0, 1.0)

    def step(self, grad: torch.Tensor, step_size: float) -> torch.Tensor:
        """Steepest-ascent step of length step_size in this norm (sign for linf, normalised for l2)."""
        if self.norm == "linf":
            return step_size * grad.sign()
        norms = grad.flatten(1).norm(p=2, dim=1).clamp_min(1e-12)
        return step_size * grad / norms.view(-1, *([1] * (grad.dim() - 1)))

    def random_start(self, x: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """Map noise ~ U[-1, 1]^d (one row per sample) to a random point of the ball, clipped to [0, 1]."""
        if self.norm == "linf":
            return (x + self.eps * noise).clamp(0.0, 1.0)
        flat = noise.flatten(1)
        direction = flat / flat.norm(p=2, dim=1, keepdim=True).clamp_min(1e-12)
        radius = self.eps * flat.abs().amax(1, keepdim=True)  # in [0, eps], from the same noise
        return (x + (direction * radius).view_as(x)).clamp(0.0, 1.0)

    def contains(self, x_adv: torch.Tensor, x: torch.Tensor, tol: float = 1e-6) -> torch.Tensor:
        """Per-sample: inside the eps ball (with tolerance) and inside [0, 1]."""
        flat = x_adv.flatten(1)
        in_box = (flat >= -tol).all(1) & (flat <= 1 + tol).all(1) & flat.isfinite().all(1)
        return in_box & (self.distance(x_adv, x) <= self.eps + tol)

    def __str__(self) -> str:
        return f"{self.norm} eps={self.eps:g}"
