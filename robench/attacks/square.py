"""Square Attack (Andriushchenko et al. 2020), black-box, through pyautoattack's ``SquareAttack``.

``square`` = 5000 queries, ``square-N`` = N queries; one restart, p_init 0.8, margin loss, the settings
AutoAttack uses. Points are queried only while still correctly classified. Seeded with
``batch_seed(seeds)`` (per-batch randomness, like ``autoattack``).
"""

from __future__ import annotations

import torch
from torch import nn

from robench.attacks.external import PyAutoAttackAttack
from robench.errors import AttackError
from robench.threat import ThreatModel


class Square(PyAutoAttackAttack):
    family = "square"
    uses_gradients = False

    def __init__(
        self, threat: ThreatModel, spec: str | None = None, *, queries: int | None = None, p_init: float = 0.8
    ) -> None:
        super().__init__(threat, spec)
        self.queries = 5000 if queries is None else int(queries)
        if self.queries < 1:
            raise AttackError(f"attack '{self.spec}' needs at least 1 query")
        self.square_queries = self.queries
        self.p_init = p_init

    def run(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor, seed: int) -> torch.Tensor:
        from pyautoattack.square import SquareAttack

        attack = SquareAttack(
            model,
            norm=self.aa_norm,
            n_queries=self.queries,
            eps=self.threat.eps,
            p_init=self.p_init,
            n_restarts=1,
            seed=seed,
            verbose=False,
            device=x.device,
            resc_schedule=False,
        )
        with torch.no_grad():
            return attack.perturb(x, y)
