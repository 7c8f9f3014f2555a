"""FGSM with a uniform random start, step 1.25 * eps, projected to the eps ball (Wong et al. 2020)."""

from __future__ import annotations

from robench.training.recipes.base import BatchLoss, Recipe, adversarial_ce, ascend, cross_entropy_to


class FGSMRandomStartRecipe(Recipe):
    name = "fgsm-rs"
    paper = "Wong et al. 2020"

    def default_step_size(self) -> float:
        return 1.25 * self.threat.eps

    def batch_loss(self, model, x, y, rng) -> BatchLoss:
        start = self.threat.random_start(x, rng.uniform(x))
        x_adv = ascend(
            model,
            x,
            start,
            self.threat,
            steps=1,
            step_size=self.step_size,
            loss_of_logits=cross_entropy_to(y),
        )
        return adversarial_ce(model, x_adv, y)
