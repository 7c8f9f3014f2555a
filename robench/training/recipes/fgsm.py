"""FGSM adversarial training without a random start (Goodfellow et al. 2015).

Kept as the classic failure case: at large eps it catastrophically overfits (FGSM accuracy stays high
while PGD accuracy collapses), which the trainer's guard must detect.
"""

from __future__ import annotations

from robench.training.recipes.base import BatchLoss, Recipe, adversarial_ce, ascend, cross_entropy_to


class FGSMRecipe(Recipe):
    name = "fgsm"
    paper = "Goodfellow et al. 2015"

    def batch_loss(self, model, x, y, rng) -> BatchLoss:
        x_adv = ascend(
            model, x, x, self.threat, steps=1, step_size=self.step_size, loss_of_logits=cross_entropy_to(y)
        )
        return adversarial_ce(model, x_adv, y)
