"""The gradient-ascent core shared by FGSM, FGSM-RS, PGD and CW-Linf.

Cost model: one step = one forward + one backward on the *active* points only. The logits of a step's
forward also decide which points are already misclassified: those points leave the active set (their
iterate is kept as the result) and cost nothing more. No extra forward is spent except one no-grad check
of the final iterates *between* restarts (the last restart's final iterates are checked by the caller,
e.g. the engine's verification).
"""

from __future__ import annotations

import torch
from torch import nn

from robench.attacks.base import Attack, attack_survivors
from robench.attacks.losses import LOSSES
from robench.core.seeding import point_noise, salt
from robench.errors import AttackError
from robench.threat import ThreatModel


class IterativeAttack(Attack):
    """Projected steepest ascent on a per-sample loss, with restarts, early stopping and optional EOT.

    ``step_size`` is the step length in the threat's norm (sign step for linf, normalised gradient
    for l2); ``eot_samples`` > 1 averages gradients (and logits, for the early-stop decision) over that
    many forwards, for randomised models.
    """

    def __init__(
        self,
        threat: ThreatModel,
        spec: str | None = None,
        *,
        steps: int,
        restarts: int = 1,
        step_size: float,
        random_start: bool = True,
        loss: str = "ce",
        eot_samples: int = 1,
    ) -> None:
        super().__init__(threat, spec)
        if steps < 1 or restarts < 1 or eot_samples < 1:
            raise AttackError(f"attack '{self.spec}' needs steps, restarts and eot_samples of at least 1")
        if not step_size > 0:
            raise AttackError(f"attack '{self.spec}' needs a positive step_size, got {step_size}")
        if loss not in LOSSES:
            raise AttackError(f"unknown loss '{loss}' for attack '{self.spec}' (choose {', '.join(LOSSES)})")
        self.steps, self.restarts, self.step_size = int(steps), int(restarts), float(step_size)
        self.random_start, self.loss, self.eot_samples = random_start, loss, int(eot_samples)

    def perturb(
        self, model: nn.Module, x: torch.Tensor, y: torch.Tensor, seeds: torch.Tensor
    ) -> torch.Tensor:
        x, y = x.detach(), y.detach()

        def attempt(restart: int, todo: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            start = self._start(x[todo], seeds[todo.cpu()], restart)
            return self._run(model, x[todo], y[todo], start, check_final=restart < self.restarts - 1)

        return attack_survivors(x, self.restarts, attempt)

    def _start(self, x: torch.Tensor, seeds: torch.Tensor, restart: int) -> torch.Tensor:
        if not self.random_start:
            return x.clone()
        # the salt makes different stages (and restarts) start from different points
        noise = point_noise(seeds, tuple(x.shape[1:]), salt=salt(self.spec) + restart)
        noise = noise.to(device=x.device, dtype=x.dtype)
        return self.threat.random_start(x, noise)

    def _run(self, model, x, y, start, *, check_final: bool) -> tuple[torch.Tensor, torch.Tensor]:
        """One restart -> (found, per point: the first misclassified iterate if found, else the last)."""
        current, result = start.clone(), start.clone()
        found = torch.zeros(x.shape[0], dtype=torch.bool, device=x.device)
        active = torch.arange(x.shape[0], device=x.device)
        for _ in range(self.steps):
            points = current[active]
            grad, logits = self._gradient(model, points, y[active])
            broken = logits.argmax(1) != y[active]
            result[active[broken]] = points[broken]
            found[active[broken]] = True
            keep = ~broken
            active, points, grad = active[keep], points[keep], grad[keep]
            if active.numel() == 0:
                break
            current[active] = self.threat.project(points + self.threat.step(grad, self.step_size), x[active])
        result[~found] = current[~found]
        if check_final and active.numel() > 0:  # the next restart must know who is still robust
            with torch.no_grad():
                logits = self._logits(model, current[active])
            found[active[logits.argmax(1) != y[active]]] = True
        return found, result

    def _gradient(self, model, points, y) -> tuple[torch.Tensor, torch.Tensor]:
        """Summed input gradient of the loss over ``eot_samples`` forwards, and the mean logits."""
        points = points.detach().requires_grad_(True)
        grad, logits_sum = torch.zeros_like(points), None
        loss_fn = LOSSES[self.loss]
        for _ in range(self.eot_samples):
            with torch.enable_grad():
                logits = model(points)
                loss = loss_fn(logits, y).sum()
            if loss.requires_grad:  # a broken graph gives no gradient; the engine's counter flags it
                grad += torch.autograd.grad(loss, points)[0]
            logits = logits.detach()
            logits_sum = logits if logits_sum is None else logits_sum + logits
        return torch.nan_to_num_(grad, nan=0.0), logits_sum / self.eot_samples

    def _logits(self, model, points) -> torch.Tensor:
        total = model(points)
        for _ in range(self.eot_samples - 1):
            total = total + model(points)
        return total / self.eot_samples


def default_step_size(eps: float, steps: int) -> float:
    """Madry-style PGD step: 2.5 * eps / steps (in the threat's norm; the same rule for linf and l2)."""
    return 2.5 * eps / max(steps, 1)
