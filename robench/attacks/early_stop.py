"""Per-point early stopping for library attacks that always step the whole batch (pyautoattack, foolbox).

``EarlyStop(model, y)`` wraps the model for one call of a library attack on a fixed batch: it forwards
only the rows not yet misclassified and hands back, for a row misclassified earlier, the logits it had
then (constant: no gradient, no pass). The first misclassified input of every row is kept in ``found``
/ ``x_found``: that iterate is the row's result (the library's own bookkeeping may move a frozen row on
momentum). When every row is misclassified the next forward raises :class:`AllBroken`, which the caller
catches to end the library's loop. Passes are counted at the wrapped model, so only active rows cost.
With ``x0`` and ``threat`` (minimum-norm attacks such as FAB, whose iterates leave the ball) a row stops
only at an iterate that is misclassified *and* inside the threat's eps ball around its ``x0`` row.
"""

from __future__ import annotations

import torch
from torch import nn

from robench.threat import ThreatModel


class AllBroken(Exception):
    """Every row of the batch is misclassified: nothing left to attack."""


class EarlyStop(nn.Module):
    def __init__(
        self,
        model: nn.Module,
        y: torch.Tensor,
        eot_samples: int = 1,
        x0: torch.Tensor | None = None,
        threat: ThreatModel | None = None,
    ) -> None:
        super().__init__()
        self.training = False  # libraries check the flag (foolbox warns); the wrapped model keeps its own
        self.model, self.y, self.eot_samples = model, y, int(eot_samples)
        self.x0, self.threat = x0, threat
        self.active = torch.ones(y.shape[0], dtype=torch.bool, device=y.device)
        self.logits: torch.Tensor | None = None
        self.x_found: torch.Tensor | None = None

    @property
    def found(self) -> torch.Tensor:
        return ~self.active

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[0] != self.y.shape[0]:
            raise ValueError(f"EarlyStop wraps a batch of {self.y.shape[0]} rows, got {x.shape[0]}")
        rows = self.active.nonzero().squeeze(1)
        if rows.numel() == 0:
            raise AllBroken
        out_rows = self._forward(x[rows])
        if self.logits is None:
            self.logits = torch.zeros(x.shape[0], out_rows.shape[1], device=x.device, dtype=out_rows.dtype)
            self.x_found = x.detach().clone()
        out = self.logits.clone().index_put((rows,), out_rows)
        broken = out_rows.detach().argmax(1) != self.y[rows]
        if self.x0 is not None and self.threat is not None:
            broken &= self.threat.contains(x.detach()[rows], self.x0[rows])
        newly = rows[broken]
        self.logits[newly] = out_rows.detach()[broken]
        self.x_found[newly] = x.detach()[newly]
        self.active[newly] = False
        return out

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits of the active rows; with EOT the mean over ``eot_samples`` forwards."""
        total = self.model(x)
        for _ in range(self.eot_samples - 1):
            total = total + self.model(x)
        return total / self.eot_samples if self.eot_samples > 1 else total
