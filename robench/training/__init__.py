"""Adversarial training: one shared loop (``train``), recipes by name (``RECIPES``), and the digits zoo.

``train(TrainConfig(recipe="pgd", ...), out_dir)`` writes the checkpoint, best checkpoint, model card and
training log; ``robench train`` is the CLI over it.
"""

from __future__ import annotations

from robench.registry import lazy_attributes

__getattr__ = lazy_attributes(  # imported on first use: ``import robench.training`` does not import torch
    __name__,
    {
        "TrainConfig": "robench.training.config",
        "TrainEvent": "robench.training.loop",
        "TrainResult": "robench.training.loop",
        "train": "robench.training.loop",
        "RECIPES": "robench.training.recipes",
        "build_recipe": "robench.training.recipes",
    },
)

__all__ = ["RECIPES", "TrainConfig", "TrainEvent", "TrainResult", "build_recipe", "train"]
