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
            step_size=threat.eps if step_size is None else step_size,
            random_start=False,
            eot_samples=eot_samples,
        )


class FGSMRandomStart(IterativeAttack):
    family = "fgsm-rs"

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
            step_size=1.25 * threat.eps if step_size is None else step_size,
            random_start=True,
            eot_samples=eot_samples,
        )
