"""Standard (non-adversarial) training: cross-entropy on clean inputs."""

from __future__ import annotations

from robench.training.recipes.base import BatchLoss, Recipe, adversarial_ce


class StandardRecipe(Recipe):
    name = "standard"
    paper = ""
    default_steps = 0

    def describe(self) -> dict:
        return {"recipe": self.name}

    def batch_loss(self, model, x, y, rng) -> BatchLoss:
        return adversarial_ce(model, x, y)
