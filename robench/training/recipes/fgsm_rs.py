"""FGSM with a uniform random start, step 1.25 * eps, projected to the eps ball (Wong et al. 2020)."""

from __future__ import annotations

from robench.training.recipes.base import BatchLoss, Recipe


class FGSMRandomStartRecipe(Recipe):
    name = "fgsm-rs"
    paper = "Wong et al. 2020"

    def default_step_size(self) -> float:
        return 1.25 * self.threat.eps

    def batch_loss(self, model, x, y, rng) -> BatchLoss:
        return self.ascent_ce(model, x, y, self.threat.random_start(x, rng.uniform(x)), steps=1)
