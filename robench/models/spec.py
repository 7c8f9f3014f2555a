"""What the user asked to evaluate: a model card, a checkpoint + architecture, or an nn.Module."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from robench.errors import RobenchError
from robench.models.cards import ModelCard
from robench.options import floats, json_object, option

#: options that a robustbench: entry fixes itself
_NOT_FOR_ZOO = ("checkpoint", "arch", "num_classes", "mean", "std", "arch_kwargs")

if TYPE_CHECKING:  # the command line builds its options from ModelSpec without importing torch
    from robench.models.loading import LoadedModel


@dataclass(frozen=True)
class ModelSpec:
    """A card id (``model``), a ``checkpoint`` + ``arch``, or an nn.Module (``module``, Python API)."""

    model: str | None = field(
        default=None,
        metadata=option(
            "model card id or name, or a RobustBench model: robustbench:<dataset>/<threat>/<name>"
        ),
    )
    checkpoint: str | Path | None = field(
        default=None, metadata=option("checkpoint file (.safetensors or .pt), with --arch")
    )
    arch: str | None = field(
        default=None,
        metadata=option("architecture for --checkpoint: a registered name or package.module:factory"),
    )
    num_classes: int | None = field(default=None, metadata=option("classes (default: the dataset's)"))
    module: Any = field(default=None, metadata=option("an nn.Module (Python API)", cli=False))
    mean: tuple[float, ...] | None = field(
        default=None, metadata=option("normalisation mean, e.g. 0.49,0.48,0.45", parse=floats)
    )
    std: tuple[float, ...] | None = field(default=None, metadata=option("normalisation std", parse=floats))
    name: str | None = field(
        default=None, metadata=option("the model's name in the record (Python API)", cli=False)
    )
    arch_kwargs: dict[str, Any] | None = field(  # for ``arch`` (a card carries its own)
        default=None,
        metadata=option('architecture keyword arguments as JSON, e.g. {"width": 16}', parse=json_object),
    )
    trust_code: bool = field(  # may a card's architecture name code?
        default=False, metadata=option("run code (package.module:function) that a card or suite file names")
    )
    model_dir: str | Path | None = field(
        default=None,
        metadata=option("RobustBench's model folder for robustbench: models (default: ./models)"),
    )
    download: bool = field(
        default=False,
        metadata=option("fetch a missing robustbench: checkpoint with RobustBench's download code (network)"),
    )

    def zoo_entry(self):
        """The RobustBench entry ``model`` names (robench.models.robustbench), or None."""
        from robench.models.robustbench import is_zoo_name

        if self.module is not None or not is_zoo_name(self.model):
            return None
        from robench.models.robustbench.entries import find_entry, refuse_options

        given = [name for name in _NOT_FOR_ZOO if getattr(self, name) is not None]
        refuse_options(self.model, [f"--{name.replace('_', '-')}" for name in given])
        return find_entry(self.model)

    def find_card(self) -> ModelCard | None:
        """The card named by ``model``; None for a checkpoint or a module. Exactly one way must be given."""
        if self.module is not None or self.zoo_entry() is not None:
            return None
        if self.model_dir is not None or self.download:
            raise RobenchError(
                "--model-dir and --download are for robustbench: models (--model robustbench:...)"
            )
        if (self.model is None) == (self.checkpoint is None and self.arch is None):
            raise RobenchError("give either --model CARD or --checkpoint PATH --arch ARCH")
        if self.model is None:
            return None
        from robench.models.cards import find_card

        return find_card(self.model, trust_code=self.trust_code)

    def load(self, card: ModelCard | None, data, device: str = "cpu") -> LoadedModel:
        """The evaluation-ready model; classes and channels default to the dataset's, and the dataset
        informs the normalisation rule (robench.models.normalization). ``arch`` typed by the user is their
        choice; a card's architecture naming code needs ``trust_code``."""
        from robench.models.loading import load_model, load_model_from_module

        if self.module is not None:
            return load_model_from_module(
                self.module, mean=self.mean, std=self.std, name=self.name, device=device
            )
        if self.zoo_entry() is not None:
            from robench.models.robustbench.load import load_zoo_model

            return load_zoo_model(self.model, model_dir=self.model_dir, download=self.download, device=device)
        if card is not None:
            return load_model(
                card,
                checkpoint=self.checkpoint,
                mean=self.mean,
                std=self.std,
                arch_kwargs=self.arch_kwargs,
                device=device,
                dataset=data,
                trust_code=self.trust_code,
            )
        return load_model(
            checkpoint=self.checkpoint,
            arch=self.arch,
            num_classes=self.num_classes or data.num_classes,
            in_channels=data.input_shape[0],
            mean=self.mean,
            std=self.std,
            arch_kwargs=self.arch_kwargs,
            device=device,
            dataset=data,
            classes_from=None if self.num_classes else classes_of(data),
        )


def classes_of(data) -> str:
    """Where a dataset's class count came from, for an error about the model's classes."""
    count, spec = data.num_classes, str(getattr(data, "spec", "") or "")
    kind, _, where = spec.partition(":")
    if kind == "folder":
        origin = f"counted from the {count} class folders of {where}"
    elif kind == "file" and len(data.labels) and int(data.labels.max()) + 1 == count:
        origin = f"counted from the labels of {where}, the largest being {count - 1}"
    else:
        origin = f"those of dataset {data.name}"
    return f"{count} classes, {origin}; give --num-classes if the model has another count"
