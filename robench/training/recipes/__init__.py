"""Training recipes, one file each, registered by name. A recipe only makes the training batch and loss."""

from __future__ import annotations

from robench.registry import Registry
from robench.training.recipes.base import Recipe, RecipeRandom

RECIPES: Registry = Registry("recipe", allow_user_code=True)
RECIPES.add("standard", "robench.training.recipes.standard:StandardRecipe")
RECIPES.add("pgd", "robench.training.recipes.pgd:PGDRecipe", aliases=("pgd-at", "madry"))
RECIPES.add("trades", "robench.training.recipes.trades:TradesRecipe")
RECIPES.add("fgsm", "robench.training.recipes.fgsm:FGSMRecipe")
RECIPES.add("fgsm-rs", "robench.training.recipes.fgsm_rs:FGSMRandomStartRecipe", aliases=("fast",))
RECIPES.add("n-fgsm", "robench.training.recipes.n_fgsm:NFGSMRecipe")
RECIPES.add("ibp", "robench.training.recipes.ibp:IBPRecipe")
RECIPES.add("crown-ibp", "robench.training.recipes.crown_ibp:CrownIBPRecipe")


def build_recipe(name: str, threat, *, steps=None, step_size=None, beta: float = 6.0) -> Recipe:
    """The recipe registered as ``name`` (or ``package.module:Class``), configured for this threat model."""
    cls = RECIPES.get(name)
    return cls(threat, steps=steps, step_size=step_size, beta=beta)


__all__ = ["RECIPES", "Recipe", "RecipeRandom", "build_recipe"]
