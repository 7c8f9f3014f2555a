"""PGD adversarial training (Madry et al. 2018): CE on PGD-k examples from a uniform random start.

Defaults: k = 10 steps of size 2.5 * eps / k (so the iterates can reach the ball's far side).
"""

from __future__ import annotations

from robench.training.recipes.base import BatchLoss, Recipe, adversarial_ce, ascend, cross_entropy_to


class PGDRecipe(Recipe):
    name = "pgd"
    paper = "Madry et al. 2018"
    default_steps = 10

    def default_step_size(self) -> float:
        return 2.5 * self.threat.eps / self.steps

    def batch_loss(self, model, x, y, rng) -> BatchLoss:
        start = self.threat.random_start(x, rng.uniform(x))
        x_adv = ascend(
            model,
            x,
            start,
            self.threat,
            steps=self.steps,
            step_size=self.step_size,
            loss_of_logits=cross_entropy_to(y),
        )
        return adversarial_ce(model, x_adv, y)
