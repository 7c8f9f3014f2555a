"""Carlini-Wagner attacks, restricted to the threat's eps ball.

linf (``cw``, ``cw-K``, ``cw-KxR``): PGD on the C&W margin loss, max_{j != y} z_j - z_y (the "CW-inf"
of the TRADES/MART evaluations); defaults K = 30 steps, R = 1 restart, step 2.5 * eps / K.

l2 (``cw``, ``cw-K``): foolbox's ``L2CarliniWagnerAttack`` (Adam in tanh space, binary search on the
constant c), K = Adam steps per search step (default 100), ``binary_search_steps`` (default 6; it has
no restarts, so ``cw-KxR`` is refused in l2), initial c = 0.01, Adam step 0.05 (in tanh space), no
batch-wide early abort (so a point's result does not depend on the other points in its batch).
C&W minimises the distance without a bound,
so its example is then projected onto the eps ball: one already inside is returned as is, one outside
is replaced by its projection (an in-ball point that may or may not still be adversarial; the caller's
verification decides); a point where C&W found nothing gets x back.

Per-point early stop: the binary search on c runs here with foolbox's update rule, one foolbox search
step per call (each point at its own c), and a point leaves the search once it has an example inside the
ball. Its decision is the one foolbox's full search restricted to the ball gives (a smaller example
inside the ball changes nothing); only the cost drops (about half the passes on the tiny digits model).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import torch
from torch import nn

from robench.attacks.base import Attack
from robench.attacks.pgd import PGD
from robench.errors import AttackError
from robench.threat import ThreatModel

LINF_STEPS = 30
L2_STEPS, L2_SEARCH_STEPS = 100, 6


class MarginPGD(PGD):
    """PGD on the C&W margin loss; one restart unless told otherwise. The linf ``cw``; in either norm,
    the diagnostics' extra-effort and BPDA attacks (``margin_pgd``)."""

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
        x, y = x.detach(), y.detach()
        n = x.shape[0]
        best, best_norm = x.clone(), torch.full((n,), math.inf, device=x.device)
        consts = np.full(n, self.initial_const)
        lower, upper = np.zeros(n), np.full(n, np.inf)
        for search_step in range(self.binary_search_steps):
            if search_step == self.binary_search_steps - 1 and self.binary_search_steps >= 10:
                consts = np.minimum(upper, 1e10)  # foolbox's rule: the last of 10+ steps retries the best c
            group = np.flatnonzero((best_norm > self.threat.eps).cpu().numpy())
            if group.size == 0:
                break
            rows = torch.from_numpy(group).to(x.device)
            found = self._search_step(foolbox, fmodel, x[rows], y[rows], consts[group])
            hit = ~(found.flatten(1) == 0).all(1)  # foolbox returns zeros where nothing was found
            norms = torch.where(hit, (found - x[rows]).flatten(1).norm(dim=1), math.inf)
            better = norms < best_norm[rows]
            best[rows[better]], best_norm[rows[better]] = found[better], norms[better]
            hit_ = hit.cpu().numpy()
            upper[group] = np.where(hit_, consts[group], upper[group])
            lower[group] = np.where(hit_, lower[group], consts[group])
            consts = np.where(np.isinf(upper), consts * 10, (lower + upper) / 2)
        return self.threat.project(best, x)

    def _search_step(self, foolbox, fmodel, x: torch.Tensor, y: torch.Tensor, consts) -> torch.Tensor:
        """One foolbox binary-search step (K Adam steps), each point at its own constant: the smallest
        example found per point (zeros where none). foolbox multiplies ``initial_const`` by a vector of
        ones, so an array of constants works (robench's cross-check against foolbox guards this)."""
        attack = foolbox.attacks.L2CarliniWagnerAttack(
            binary_search_steps=1,
            steps=self.steps,
            stepsize=self.step_size,
            confidence=self.confidence,
            initial_const=consts,
            abort_early=False,
        )
        return attack.run(fmodel, x, foolbox.criteria.Misclassification(y)).detach()


def cw_attack(
    threat: ThreatModel,
    spec: str | None = None,
    *,
    steps: int | None = None,
    restarts: int | None = None,
    binary_search_steps: int = L2_SEARCH_STEPS,
    step_size: float | None = None,
    eot_samples: int = 1,
    initial_const: float = 0.01,
    confidence: float = 0.0,
) -> Attack:
    """``cw-K`` / ``cw-KxR``: CW-inf PGD (K steps, R restarts) for linf; C&W L2 (K Adam steps per search
    step, ``binary_search_steps`` search steps) for l2, which has no restarts."""
    if threat.norm == "linf":
        return MarginPGD(
            threat, spec, steps=steps, restarts=restarts, step_size=step_size, eot_samples=eot_samples
        )
    if restarts is not None:
        raise AttackError(
            f"attack '{spec}': l2 C&W has no restarts; write cw-K (K Adam steps) and set "
            f"binary_search_steps (default {L2_SEARCH_STEPS}) for its binary search"
        )
    if eot_samples != 1:
        raise AttackError("the l2 C&W attack does not support eot_samples; use pgd with eot_samples instead")
    return CWL2(
        threat,
        spec,
        steps=L2_STEPS if steps is None else steps,
        binary_search_steps=binary_search_steps,
        initial_const=initial_const,
        step_size=0.05 if step_size is None else step_size,
        confidence=confidence,
    )


def margin_pgd(threat: ThreatModel, steps: int, restarts: int = 1, *, eot_samples: int = 1) -> MarginPGD:
    """PGD on the C&W margin loss in the threat's norm (linf: the same attack as ``cw-KxR``)."""
    # named as linf's cw-K / cw-KxR: the name salts the random starts, so linf results equal theirs
    name = f"cw-{steps}" if restarts == 1 else f"cw-{steps}x{restarts}"
    return MarginPGD(threat, name, steps=steps, restarts=restarts, eot_samples=eot_samples)
