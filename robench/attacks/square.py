"""Square Attack (Andriushchenko et al. 2020), black-box, through pyautoattack's ``SquareAttack``.

``square`` = 5000 queries, ``square-N`` = N queries; one restart, p_init 0.8, margin loss, the settings
AutoAttack uses. Points are queried only while still correctly classified. Seeded with
``batch_seed(seeds)`` (per-batch randomness, like ``autoattack``).
"""

from __future__ import annotations

import torch
from torch import nn

from robench.attacks.base import Attack
from robench.attacks.external import batch_seed, quiet_external
from robench.errors import AttackError
from robench.threat import ThreatModel

AA_NORMS = {"linf": "Linf", "l2": "L2"}


class Square(Attack):
    family = "square"
    uses_gradients = False

    def __init__(
        self, threat: ThreatModel, spec: str | None = None, *, queries: int | None = None, p_init: float = 0.8
    ) -> None:
        super().__init__(threat, spec)
        self.queries = 5000 if queries is None else int(queries)
        if self.queries < 1:
            raise AttackError(f"attack '{self.spec}' needs at least 1 query")
        self.p_init = p_init
        self.last_log = ""

    def perturb(
        self, model: nn.Module, x: torch.Tensor, y: torch.Tensor, seeds: torch.Tensor
    ) -> torch.Tensor:
        from pyautoattack.square import SquareAttack

        if x.shape[0] == 0:
            return x.clone()
        with quiet_external(x.device) as log, torch.no_grad():
            attack = SquareAttack(
                model,
                norm=AA_NORMS[self.threat.norm],
                n_queries=self.queries,
                eps=self.threat.eps,
                p_init=self.p_init,
                n_restarts=1,
                seed=batch_seed(seeds),
                verbose=False,
                device=x.device,
                resc_schedule=False,
            )
            x_adv = attack.perturb(x.detach(), y.detach())
        self.last_log = log.getvalue()
        return x_adv.detach()
