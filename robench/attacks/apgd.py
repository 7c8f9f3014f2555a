"""APGD (Croce & Hein 2020) through pyautoattack's ``APGDAttack``, with per-point early stopping.

``apgd``, ``apgd-K``, ``apgd-KxR``: APGD on the cross-entropy (``loss="dlr"`` for the DLR loss), K
iterations (default 100, AutoAttack's), R restarts (default 1), momentum 0.75 and AutoAttack's step-size
schedule. pyautoattack's own ``attack_single_run`` does the optimisation; robench adds:

- per-point early stop: the model is wrapped in :class:`~robench.attacks.early_stop.EarlyStop`, so a
  point costs no pass after its first misclassified iterate, which is its result (AutoAttack's APGD
  steps every point of the batch for all iterations);
- per-point random starts: eps * t / ||t|| (AutoAttack's start) with t from ``point_noise(seeds)``, so
  the result of a point does not depend on its batch (``batch_random`` is False);
- restart r attacks only the points no earlier restart broke.
A point that stays robust gets its highest-loss iterate back.
"""

from __future__ import annotations

import contextlib

import torch
from torch import nn

from robench.attacks.base import Attack, attack_survivors
from robench.attacks.early_stop import AllBroken, EarlyStop
from robench.attacks.external import AA_NORMS, quiet_external
from robench.core.seeding import point_noise, salt
from robench.errors import AttackError
from robench.threat import ThreatModel

STEPS = 100
LOSSES = ("ce", "dlr")


def aa_start(threat: ThreatModel, x: torch.Tensor, seeds: torch.Tensor, key: int) -> torch.Tensor:
    """AutoAttack's random start x + eps * t / ||t|| (on the sphere), t per point from its seed."""
    t = point_noise(seeds, tuple(x.shape[1:]), salt=key).to(device=x.device, dtype=x.dtype)
    flat = t.flatten(1)
    norms = flat.abs().amax(1) if threat.norm == "linf" else flat.norm(dim=1)
    t = t / (norms.clamp_min(1e-12).view(-1, *([1] * (x.dim() - 1))))
    return (x + threat.eps * t).clamp(0.0, 1.0)


def run_apgd(
    runner, model: nn.Module, x: torch.Tensor, y: torch.Tensor, start: torch.Tensor, eot_samples: int = 1
) -> tuple[torch.Tensor, torch.Tensor]:
    """One pyautoattack APGD run (``runner``: an APGDAttack) with per-point early stop.

    -> (found, x_adv): the first misclassified iterate where found, else the highest-loss iterate."""
    stop = EarlyStop(model, y, eot_samples)
    runner.model = stop
    runner.init_hyperparam(x)
    x_best = start
    with quiet_external(x.device), contextlib.suppress(AllBroken):
        x_best = runner.attack_single_run(x, y, x_init=start)[0].detach()
    found = stop.found
    if stop.x_found is None:
        return found, x_best
    return found, torch.where(found.view(-1, *([1] * (x.dim() - 1))), stop.x_found, x_best)


class APGD(Attack):
    family = "apgd"

    def __init__(
        self,
        threat: ThreatModel,
        spec: str | None = None,
        *,
        steps: int = STEPS,
        restarts: int = 1,
        loss: str = "ce",
        rho: float = 0.75,
        eot_samples: int = 1,
    ) -> None:
        super().__init__(threat, spec)
        if steps < 1 or restarts < 1 or eot_samples < 1:
            raise AttackError(f"attack '{self.spec}' needs steps, restarts and eot_samples of at least 1")
        if loss not in LOSSES:
            raise AttackError(f"attack '{self.spec}': loss must be one of {', '.join(LOSSES)}, not '{loss}'")
        self.steps, self.restarts, self.loss = int(steps), int(restarts), loss
        self.rho, self.eot_samples = float(rho), int(eot_samples)

    def runner(self, device: torch.device):
        from pyautoattack.autopgd_base import APGDAttack

        return APGDAttack(
            None,
            n_iter=self.steps,
            norm=AA_NORMS[self.threat.norm],
            n_restarts=1,
            eps=self.threat.eps,
            seed=0,
            loss=self.loss,
            eot_iter=1,
            rho=self.rho,
            verbose=False,
            device=device,
        )

    def perturb(
        self, model: nn.Module, x: torch.Tensor, y: torch.Tensor, seeds: torch.Tensor
    ) -> torch.Tensor:
        x, y = x.detach(), y.detach()

        def attempt(restart: int, todo: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            start = aa_start(self.threat, x[todo], seeds[todo.cpu()], salt(self.spec) + restart)
            return run_apgd(self.runner(x.device), model, x[todo], y[todo], start, self.eot_samples)

        return attack_survivors(x, self.restarts, attempt)
