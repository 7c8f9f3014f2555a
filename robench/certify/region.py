"""The input set of a certificate: the eps ball (linf or l2) around x intersected with the [0, 1] box.

Both bounds below are sound over that intersection: the box bound uses the smallest box holding it
(``clamp(x -+ eps, 0, 1)``, exact for linf), and for l2 the ball bound ``a.x - eps ||a||_2`` is also a
lower bound; the larger of the two is taken.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from robench.threat import ThreatModel


@dataclass(frozen=True)
class InputRegion:
    center: torch.Tensor  # (B, *shape), in [0, 1]
    norm: str
    eps: float

    @classmethod
    def around(cls, x: torch.Tensor, threat: ThreatModel) -> InputRegion:
        return cls(x, threat.norm, float(threat.eps))

    @property
    def lower(self) -> torch.Tensor:
        return (self.center - self.eps).clamp(0.0, 1.0)

    @property
    def upper(self) -> torch.Tensor:
        return (self.center + self.eps).clamp(0.0, 1.0)

    def minimum(self, rows: torch.Tensor, constant: torch.Tensor) -> torch.Tensor:
        """Lower bound of ``rows . x' + constant`` over the set: rows (B, m, *shape), constant (B, m)."""
        flat = rows.flatten(2)
        lower, upper = self.lower.flatten(1).unsqueeze(1), self.upper.flatten(1).unsqueeze(1)
        box = (flat.clamp_min(0) * lower).sum(-1) + (flat.clamp_max(0) * upper).sum(-1)
        if self.norm == "l2":
            center = self.center.flatten(1).unsqueeze(1)
            ball = (flat * center).sum(-1) - self.eps * flat.norm(dim=-1)
            box = torch.maximum(box, ball)
        return box + constant
