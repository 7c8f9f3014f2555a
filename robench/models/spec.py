"""What the user asked to evaluate: a model card, a checkpoint + architecture, or an nn.Module."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from robench.errors import RobenchError
from robench.models.cards import ModelCard
from robench.models.loading import LoadedModel, load_model, load_model_from_module


@dataclass
class ModelSpec:
    """A card id (``model``), a ``checkpoint`` + ``arch``, or an nn.Module (``module``, Python API)."""

    model: str | None = None
    checkpoint: str | Path | None = None
    arch: str | None = None
    num_classes: int | None = None
    module: Any = None
    mean: tuple[float, ...] | None = None
    std: tuple[float, ...] | None = None
    name: str | None = None
    arch_kwargs: dict[str, Any] | None = None  # for ``arch`` (a card carries its own)

    def find_card(self) -> ModelCard | None:
        """The card named by ``model``; None for a checkpoint or a module. Exactly one way must be given."""
        if self.module is not None:
            return None
        if (self.model is None) == (self.checkpoint is None and self.arch is None):
            raise RobenchError("give either --model CARD or --checkpoint PATH --arch ARCH")
        if self.model is None:
            return None
        from robench.models.cards import find_card

        return find_card(self.model)

    def load(self, card: ModelCard | None, data, device: str = "cpu") -> LoadedModel:
        """The evaluation-ready model; classes and channels default to the dataset's."""
        if self.module is not None:
            return load_model_from_module(
                self.module, mean=self.mean, std=self.std, name=self.name, device=device
            )
        if card is not None:
            return load_model(card, checkpoint=self.checkpoint, arch_kwargs=self.arch_kwargs, device=device)
        return load_model(
            checkpoint=self.checkpoint,
            arch=self.arch,
            num_classes=self.num_classes or data.num_classes,
            in_channels=data.input_shape[0],
            mean=self.mean,
            std=self.std,
            arch_kwargs=self.arch_kwargs,
            device=device,
        )
