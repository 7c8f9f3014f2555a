"""FGSM adversarial training without a random start (Goodfellow et al. 2015).

Kept as the classic failure case: at large eps it catastrophically overfits (FGSM accuracy stays high
while PGD accuracy collapses), which the trainer's guard must detect.
"""

from __future__ import annotations

from robench.training.recipes.base import BatchLoss, Recipe


class FGSMRecipe(Recipe):
    name = "fgsm"
    paper = "Goodfellow et al. 2015"

    def batch_loss(self, model, x, y, rng) -> BatchLoss:
        return self.ascent_ce(model, x, y, x, steps=1)
