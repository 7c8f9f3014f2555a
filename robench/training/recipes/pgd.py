"""PGD adversarial training (Madry et al. 2018): CE on PGD-k examples from a uniform random start.

Defaults: k = 10 steps of size 2.5 * eps / k (so the iterates can reach the ball's far side).
"""

from __future__ import annotations

from robench.training.recipes.base import BatchLoss, MultiStepRecipe


class PGDRecipe(MultiStepRecipe):
    name = "pgd"
    paper = "Madry et al. 2018"

    def batch_loss(self, model, x, y, rng) -> BatchLoss:
        start = self.threat.random_start(x, rng.uniform(x))
        return self.ascent_ce(model, x, y, start, steps=self.steps)
