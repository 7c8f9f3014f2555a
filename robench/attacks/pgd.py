"""PGD (Madry et al. 2018): random start, cross-entropy loss, K projected steps, R restarts.

Spec ``pgd-K`` or ``pgd-KxR`` (``pgd`` alone is ``pgd-20``). Defaults: step size 2.5 * eps / K in the
threat's norm (linf: sign steps; l2: normalised-gradient steps); 1 restart, 5 restarts for K >= 100.
Restart r attacks only the points no earlier restart broke; within a restart a point stops costing
passes at the first iterate that is misclassified, and that iterate is what is returned for it.
"""

from __future__ import annotations

from robench.attacks.iterative import IterativeAttack, default_step_size
from robench.threat import ThreatModel

DEFAULT_STEPS = 20


def default_restarts(steps: int) -> int:
    return 5 if steps >= 100 else 1


class PGD(IterativeAttack):
    """Subclasses change the loss, the default step count and the restarts rule (e.g. ``MarginPGD``)."""

    family = "pgd"
    loss_name = "ce"
    default_steps = DEFAULT_STEPS

    def __init__(
        self,
        threat: ThreatModel,
        spec: str | None = None,
        *,
        steps: int | None = None,
        restarts: int | None = None,
        step_size: float | None = None,
        eot_samples: int = 1,
        random_start: bool = True,
    ) -> None:
        steps = self.default_steps if steps is None else steps
        super().__init__(
            threat,
            spec,
            steps=steps,
            restarts=self.default_restarts(steps) if restarts is None else restarts,
            step_size=default_step_size(threat.eps, steps) if step_size is None else step_size,
            random_start=random_start,
            loss=self.loss_name,
            eot_samples=eot_samples,
        )

    @staticmethod
    def default_restarts(steps: int) -> int:
        return default_restarts(steps)
