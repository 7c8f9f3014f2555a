"""What a training run found, stated once: the training log's summary and the model card's ``training``
block are both rendered from a :class:`TrainingSummary`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: the guards' booleans the model card repeats (robench.training.artifacts.write_model_card)
CARD_FLAGS = ("catastrophic_overfitting", "robust_overfitting", "not_learning")


@dataclass(frozen=True)
class TrainingFlags:
    """What the overfitting and learning guards found."""

    #: the first catastrophic-overfitting event, {"epoch", "reason"}; None: there was none
    catastrophic_overfitting: dict[str, Any] | None
    stopped_early: bool  # early stop restored the last weights without the flag
    robust_overfitting: bool  # the best validation PGD accuracy beat the final one by more than ro_gap
    not_learning: str | None  # why the run never learned; None: it learned

    def to_dict(self) -> dict[str, Any]:
        """The log's ``flags``: a boolean per guard, with the event's epoch and reasons."""
        event = self.catastrophic_overfitting or {}
        return {
            "catastrophic_overfitting": self.catastrophic_overfitting is not None,
            "catastrophic_overfitting_epoch": event.get("epoch"),
            "catastrophic_overfitting_reason": event.get("reason"),
            "stopped_early": self.stopped_early,
            "robust_overfitting": self.robust_overfitting,
            "not_learning": self.not_learning is not None,
            "not_learning_reason": self.not_learning,
        }

    def raised(self) -> list[str]:
        """The card's guards that fired, in CARD_FLAGS order."""
        flags = self.to_dict()
        return [name for name in CARD_FLAGS if flags[name]]


@dataclass(frozen=True)
class TrainingSummary:
    """A finished run: its settings, how it was validated, what the guards found, its best and final
    validation PGD accuracy and its checkpoints (the training log's summary: ``to_dict``)."""

    name: str
    config: dict[str, Any]  # TrainConfig.to_dict()
    recipe: dict[str, Any]  # the recipe's description (Recipe.describe)
    validation: dict[str, Any]  # the validation split and the monitored points
    flags: TrainingFlags
    best_epoch: int
    best_pgd: float  # validation PGD accuracy of the best epoch
    final_epoch: int  # the epoch whose weights the final checkpoint holds (0: none)
    final_pgd: float | None
    checkpoints: dict[str, Any]  # final, best (None: not kept), final_sha256

    @property
    def best_minus_final_pgd(self) -> float | None:
        return self.best_pgd - self.final_pgd if self.final_pgd is not None else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "config": self.config,
            "recipe": self.recipe,
            "validation": self.validation,
            "flags": self.flags.to_dict(),
            "best": {"epoch": self.best_epoch, "val_pgd_acc": self.best_pgd},
            "final": {"epoch": self.final_epoch, "val_pgd_acc": self.final_pgd},
            "best_minus_final_pgd": self.best_minus_final_pgd,
            "checkpoints": self.checkpoints,
        }

    def card_flags(self) -> dict[str, bool]:
        """The guards' booleans the model card's ``training`` block holds."""
        flags = self.flags.to_dict()
        return {name: flags[name] for name in CARD_FLAGS}
