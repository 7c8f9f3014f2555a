"""Carlini-Wagner attacks, restricted to the threat's eps ball.

linf (``cw``, ``cw-K``, ``cw-KxR``): PGD on the C&W margin loss, max_{j != y} z_j - z_y (the "CW-inf"
of the TRADES/MART evaluations); defaults K = 30 steps, R = 1 restart, step 2.5 * eps / K.

l2 (``cw``, ``cw-K``, ``cw-KxR``): foolbox's ``L2CarliniWagnerAttack`` (Adam in tanh space, binary
search on the constant c), K = Adam steps per search step (default 100), R = binary-search steps
(default 6), initial c = 0.01, Adam step 0.05 (in tanh space), no batch-wide early abort (so a point's
result does not depend on the other points in its batch). C&W minimises the distance without a bound,
so its example is then projected onto the eps ball: one already inside is returned as is, one outside
is replaced by its projection (an in-ball point that may or may not still be adversarial; the caller's
verification decides).
"""

from __future__ import annotations

import warnings

import torch
from torch import nn

from robench.attacks.base import Attack
from robench.attacks.pgd import PGD
from robench.errors import AttackError
from robench.threat import ThreatModel

LINF_STEPS = 30
L2_STEPS, L2_SEARCH_STEPS = 100, 6


class CWLinf(PGD):
    """PGD on the C&W margin loss; one restart unless told otherwise."""

    family = "cw"
    loss_name = "cw"
    default_steps = LINF_STEPS

    @staticmethod
    def default_restarts(steps: int) -> int:
        return 1


class CWL2(Attack):
    family = "cw"

    def __init__(
        self,
        threat: ThreatModel,
        spec: str | None = None,
        *,
        steps: int = L2_STEPS,
        binary_search_steps: int = L2_SEARCH_STEPS,
        initial_const: float = 0.01,
        step_size: float = 0.05,
        confidence: float = 0.0,
    ) -> None:
        super().__init__(threat, spec)
        if steps < 1 or binary_search_steps < 1:
            raise AttackError(f"attack '{self.spec}' needs at least 1 step and 1 binary-search step")
        self.steps, self.binary_search_steps = int(steps), int(binary_search_steps)
        self.initial_const, self.step_size, self.confidence = initial_const, step_size, confidence

    def perturb(
        self, model: nn.Module, x: torch.Tensor, y: torch.Tensor, seeds: torch.Tensor
    ) -> torch.Tensor:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # foolbox's scipy deprecation and train-mode notices
            import foolbox

            fmodel = foolbox.PyTorchModel(model, bounds=(0.0, 1.0), device=x.device)
        attack = foolbox.attacks.L2CarliniWagnerAttack(
            binary_search_steps=self.binary_search_steps,
            steps=self.steps,
            stepsize=self.step_size,
            confidence=self.confidence,
            initial_const=self.initial_const,
            abort_early=False,
        )
        found = attack.run(fmodel, x.detach(), foolbox.criteria.Misclassification(y.detach()))
        # foolbox returns zeros where nothing was found: keep x there; project the rest onto the ball
        missing = (found.flatten(1) == 0).all(1)
        found[missing] = x[missing]
        return self.threat.project(found.detach(), x.detach())


def cw_attack(
    threat: ThreatModel,
    spec: str | None = None,
    *,
    steps: int | None = None,
    restarts: int | None = None,
    step_size: float | None = None,
    eot_samples: int = 1,
    initial_const: float = 0.01,
    confidence: float = 0.0,
) -> Attack:
    """``cw-KxR``: CW-inf PGD (K steps, R restarts) for linf; C&W L2 (K Adam steps, R search steps) for l2."""
    if threat.norm == "linf":
        return CWLinf(
            threat, spec, steps=steps, restarts=restarts, step_size=step_size, eot_samples=eot_samples
        )
    if eot_samples != 1:
        raise AttackError("the l2 C&W attack does not support eot_samples; use pgd with eot_samples instead")
    return CWL2(
        threat,
        spec,
        steps=L2_STEPS if steps is None else steps,
        binary_search_steps=L2_SEARCH_STEPS if restarts is None else restarts,
        initial_const=initial_const,
        step_size=0.05 if step_size is None else step_size,
        confidence=confidence,
    )
