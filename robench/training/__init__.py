"""Adversarial training: one shared loop (``train``), recipes by name (``RECIPES``), and the digits zoo.

``train(TrainConfig(recipe="pgd", ...), out_dir)`` writes the checkpoint, best checkpoint, model card and
training log; ``robench train`` is the CLI over it.
"""

from __future__ import annotations

from robench.training.config import TrainConfig
from robench.training.loop import TrainEvent, TrainResult, train
from robench.training.recipes import RECIPES, build_recipe

__all__ = ["RECIPES", "TrainConfig", "TrainEvent", "TrainResult", "build_recipe", "train"]
