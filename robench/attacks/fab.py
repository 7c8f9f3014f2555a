"""Targeted FAB (Croce & Hein 2020) through pyautoattack's ``FABAttack_PT``, with per-point early stop.

``fab-t``, ``fab-t-K``, ``fab-t-KxT``: K FAB iterations (default 100, AutoAttack's) per target, T targets
(default 1): the 2nd, 3rd, ... highest clean logits, AutoAttack's order. FAB minimises the distance to
the target's boundary from x itself (no random start: deterministic, so ``batch_random`` is False) and
its iterates may leave the eps ball; a point stops costing passes at its first iterate that is
misclassified *inside* the ball (``EarlyStop`` with the ball), and that iterate is its result. Target
j attacks only the points earlier targets left robust. One iteration = two forwards and one backward.
"""

from __future__ import annotations

import contextlib

import torch
from torch import nn

from robench.attacks.base import Attack, attack_survivors
from robench.attacks.early_stop import AllBroken, EarlyStop
from robench.attacks.external import AA_NORMS, quiet_external
from robench.errors import AttackError
from robench.threat import ThreatModel

STEPS = 100


class TargetedFAB(Attack):
    family = "fab-t"

    def __init__(
        self, threat: ThreatModel, spec: str | None = None, *, steps: int = STEPS, targets: int = 1
    ) -> None:
        super().__init__(threat, spec)
        if steps < 1 or targets < 1:
            raise AttackError(f"attack '{self.spec}' needs at least 1 step and 1 target")
        self.steps, self.targets = int(steps), int(targets)

    def run_target(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor, rank: int) -> EarlyStop:
        """FAB towards each point's ``rank``-th highest clean logit (2 = the runner-up)."""
        from pyautoattack.fab_pt import FABAttack_PT

        stop = EarlyStop(model, y, x0=x, threat=self.threat)
        runner = FABAttack_PT(
            stop,
            norm=AA_NORMS[self.threat.norm],
            n_restarts=1,
            n_iter=self.steps,
            eps=self.threat.eps,
            seed=0,
            targeted=True,
            n_target_classes=1,
            device=x.device,
        )
        runner.target_class = rank
        with quiet_external(x.device), contextlib.suppress(AllBroken):
            runner.attack_single_run(x, y, use_rand_start=False, is_targeted=True)
        return stop

    def perturb(
        self, model: nn.Module, x: torch.Tensor, y: torch.Tensor, seeds: torch.Tensor
    ) -> torch.Tensor:
        x, y = x.detach(), y.detach()

        def attempt(j: int, todo: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            stop = self.run_target(model, x[todo], y[todo], rank=j + 2)  # a point not broken keeps x
            if stop.x_found is None:
                return torch.zeros_like(todo, dtype=torch.bool), x[todo]
            return stop.found, torch.where(stop.found.view(-1, *([1] * (x.dim() - 1))), stop.x_found, x[todo])

        return attack_survivors(x, self.targets, attempt)
