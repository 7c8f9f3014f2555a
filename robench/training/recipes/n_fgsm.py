"""N-FGSM (de Jorge et al. 2022): noise U[-2 eps, 2 eps], one step of size eps, no clipping to the eps ball.

The training point may lie up to 3 eps from x (only the [0, 1] box is enforced); that is the method.
"""

from __future__ import annotations

from robench.threat import ThreatModel
from robench.training.recipes.base import BatchLoss, Recipe

NOISE_MULTIPLIER = 2.0


class NFGSMRecipe(Recipe):
    name = "n-fgsm"
    paper = "de Jorge et al. 2022"

    def batch_loss(self, model, x, y, rng) -> BatchLoss:
        noise_ball = ThreatModel(self.threat.norm, NOISE_MULTIPLIER * self.threat.eps)
        start = noise_ball.random_start(x, rng.uniform(x))
        return self.ascent_ce(model, x, y, start, steps=1, project=False)  # only the [0, 1] box
