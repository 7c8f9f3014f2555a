"""FGSM (Goodfellow et al. 2015) and FGSM with random start (Wong et al. 2020).

``fgsm``: one step of length eps from x (sign step for linf, normalised gradient for l2).
``fgsm-rs``: a uniform random start in the ball, then one step of 1.25 * eps, projected back.
Both cost one forward + one backward per point; a point misclassified at its start point keeps it.
"""

from __future__ import annotations

from robench.attacks.iterative import IterativeAttack
from robench.threat import ThreatModel


class FGSM(IterativeAttack):
    family = "fgsm"
    step_scale = 1.0  # default step length, in units of eps
    starts_randomly = False

    def __init__(
        self,
        threat: ThreatModel,
        spec: str | None = None,
        *,
        step_size: float | None = None,
        eot_samples: int = 1,
    ) -> None:
        super().__init__(
            threat,
            spec,
            steps=1,
            step_size=self.step_scale * threat.eps if step_size is None else step_size,
            random_start=self.starts_randomly,
            eot_samples=eot_samples,
        )


class FGSMRandomStart(FGSM):
    family = "fgsm-rs"
    step_scale = 1.25
    starts_randomly = True
