"""Build a model ready for evaluation: from a card, from ``--checkpoint/--arch``, or from an nn.Module.

The architecture comes from the card or the caller, never from the checkpoint file; weights are read
safely (robench.models.checkpoint) and the sha256 is checked against the card. A card that names code
runs it only on trust. The result is wrapped with its normalisation (robench.models.normalization: attacks
work in [0, 1]), prepared for evaluation (eval mode, no parameter gradients), and says what it is: the
layout, its options, the normalisation and where it came from, and any adaptation of the checkpoint.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from robench.errors import CheckpointError, Note, RobenchError
from robench.models import ARCHITECTURES, create_model
from robench.models.cards import ModelCard, find_card
from robench.models.checkpoint import FittedCheckpoint, fit_state_dict, read_state_dict, sha256_file
from robench.models.keys import checkpoint_normalization
from robench.models.layouts import concrete_layout, find_layout
from robench.models.normalization import Normalization, check_mean_std, choose_normalization
from robench.models.wrapper import normalize, prepare_for_eval
from robench.registry import check_trusted


class LoadNote(Note):
    """Something the loader adapted in a checkpoint (e.g. unused weights dropped); shown, never an error."""


@dataclass
class LoadedModel:
    """An evaluation-ready model: normalisation inside, eval mode, parameter gradients off.

    ``architecture`` is the name given (card or caller); ``layout`` the registered layout actually built
    (a family name resolved for a fresh model) or the user factory; ``normalization`` what is applied in
    front of the network and its source; ``notes`` what the loader adapted in the checkpoint.
    """

    module: nn.Module
    name: str
    sha256: str | None
    card: ModelCard | None = None
    architecture: str | None = None
    layout: str | None = None
    arch_kwargs: dict[str, Any] = field(default_factory=dict)
    normalization: Normalization | None = None
    notes: tuple[str, ...] = ()
    robustbench: dict[str, Any] | None = None  # the zoo entry, its files' sha256, robustbench's version

    def provenance(self) -> dict[str, Any]:
        """What to record with every evaluation of this model (JSON-ready)."""
        return {
            "architecture": self.architecture,
            "layout": self.layout,
            "arch_kwargs": dict(self.arch_kwargs),
            "normalization": self.normalization.to_dict() if self.normalization else None,
            "notes": list(self.notes),
            "robustbench": self.robustbench,
        }

    def describe(self) -> str:
        """One line for the console: layout, options, normalisation, what the loader adapted."""
        options = f" {self.arch_kwargs}" if self.arch_kwargs else ""
        norm = f"; {self.normalization.describe()}" if self.normalization else ""
        adapted = [note.split(": ", 1)[-1] for note in self.notes if "normalisation before" not in note]
        done = f"; checkpoint adapted: {'; '.join(adapted)}" if adapted else ""
        return f"{self.name}: layout {self.layout or 'nn.Module'}{options}{norm}{done}"


@dataclass
class _Request:
    """The settings a load resolves to, from the card or from the caller."""

    arch: str
    num_classes: int
    in_channels: int | None  # None: a card without mean/std (the checkpoint's buffers, else the data, say)
    arch_kwargs: dict[str, Any]
    given: tuple[Sequence[float], Sequence[float]] | None
    given_by: str  # "card" or "explicit"
    checkpoint: str | os.PathLike | None


def _conflicts(card: ModelCard, given: dict[str, Any]) -> list[str]:
    from_card = {
        "arch": card.architecture,
        "num_classes": card.num_classes,
        "in_channels": card.in_channels,
        "mean": card.mean,
        "std": card.std,
        "arch_kwargs": card.arch_kwargs,
    }
    conflicts = []
    for key, value in given.items():
        if value is None or from_card[key] is None:  # a card without mean/std leaves them open
            continue
        if isinstance(value, Sequence) and not isinstance(value, str):
            value = [float(v) for v in value]
        if value != from_card[key]:
            conflicts.append(f"{key}={value!r} (card: {from_card[key]!r})")
    return conflicts


def _from_card(card: ModelCard, given: dict[str, Any], checkpoint, trust_code: bool) -> _Request:
    where = f"model card {card.path if card.path is not None else card.id}"
    check_trusted(card.architecture, where, trust_code or card.trusted)
    conflicts = _conflicts(card, given)
    if conflicts:
        raise RobenchError(f"model card {card.id} fixes these settings; drop {', '.join(conflicts)}")
    if card.mean is not None:
        values, by = (card.mean, card.std), "card"
    else:  # the card leaves its normalisation to the checkpoint (or to values given explicitly)
        values = (given["mean"], given["std"]) if given["mean"] is not None else None
        by = "explicit"
    return _Request(
        card.architecture,
        card.num_classes,
        card.in_channels or (len(values[0]) if values else None),
        dict(card.arch_kwargs),
        values,
        by,
        checkpoint if checkpoint is not None else card.checkpoint_path,
    )


def _from_caller(given: dict[str, Any], checkpoint) -> _Request:
    arch, mean, std = given["arch"], given["mean"], given["std"]
    if arch is None:
        raise RobenchError("give a model card (--model) or an architecture (--arch) for the checkpoint")
    if given["num_classes"] is None:
        raise RobenchError(f"give the number of classes (--num-classes) for architecture '{arch}'")
    if (mean is None) != (std is None):
        raise RobenchError("give both mean and std (--mean and --std), or neither")
    if mean is not None:
        check_mean_std(mean, std, "the --mean/--std values")  # before any file is read
    in_channels = given["in_channels"] or (len(mean) if mean is not None else 3)
    if mean is not None and len(mean) != in_channels:
        raise RobenchError(f"mean/std have {len(mean)} values but the model takes {in_channels} channels")
    given_values = (mean, std) if mean is not None else None
    return _Request(
        arch,
        given["num_classes"],
        in_channels,
        dict(given["arch_kwargs"] or {}),
        given_values,
        "explicit",
        checkpoint,
    )


def _read(
    request: _Request, card: ModelCard | None, notes: list[str]
) -> tuple[dict[str, torch.Tensor] | None, str | None]:
    if request.checkpoint is None:
        return None, None
    state = read_state_dict(request.checkpoint, notes)  # first: a bad file is reported before anything else
    sha256 = sha256_file(request.checkpoint)
    if card is not None and sha256 != card.sha256:
        raise CheckpointError(
            f"sha256 of {request.checkpoint} is {sha256[:16]}… but card {card.id} says {card.sha256[:16]}…; "
            "the file is not the checkpoint the card describes"
        )
    return state, sha256


def _channels(state: dict[str, torch.Tensor] | None, dataset: Any) -> int:
    """Input channels when the card leaves them open (no mean/std): the checkpoint's normalisation
    buffers', else the data's, else 3."""
    found = checkpoint_normalization(state) if state is not None else None
    if found is not None:
        return len(found.mean)
    shape = getattr(dataset, "input_shape", None)
    return int(shape[0]) if shape else 3


def _built(
    request: _Request, card: ModelCard | None, dataset: Any, classes_from: str | None
) -> tuple[nn.Module, str | None, FittedCheckpoint, tuple[str, ...]]:
    """The network with the checkpoint's weights: (net, the file's sha256 or None without a checkpoint,
    what fitting found, what was adapted to read and fit it)."""
    read_notes: list[str] = []
    state, sha256 = _read(request, card, read_notes)
    request.in_channels = request.in_channels or _channels(state, dataset)
    net = create_model(request.arch, request.num_classes, request.in_channels, options=request.arch_kwargs)
    fitted = FittedCheckpoint()
    if state is not None:
        fitted = fit_state_dict(
            net,
            state,
            arch=request.arch,
            num_classes=request.num_classes,
            source=str(request.checkpoint),
            accept_normalization=True,
            classes_from=classes_from,
        )
    return net, sha256, fitted, (*read_notes, *fitted.notes)


def _normalization(request: _Request, fitted: FittedCheckpoint, dataset: Any, model: str) -> Normalization:
    """What robench puts in front of the network: the rule of robench.models.normalization applied to the
    values given, the checkpoint's buffers, the layout's own and the data's."""
    return choose_normalization(
        given=request.given,
        given_by=request.given_by,
        checkpoint=fitted.normalization,
        layout=find_layout(ARCHITECTURES.canonical(request.arch)),
        arch=request.arch,
        dataset=dataset,
        in_channels=request.in_channels,
        model=model,
    )


def load_model(
    card: ModelCard | str | None = None,
    *,
    checkpoint: str | os.PathLike | None = None,
    arch: str | None = None,
    num_classes: int | None = None,
    in_channels: int | None = None,
    mean: Sequence[float] | None = None,
    std: Sequence[float] | None = None,
    arch_kwargs: dict[str, Any] | None = None,
    device: str = "cpu",
    dataset: Any = None,
    trust_code: bool = False,
    classes_from: str | None = None,
) -> LoadedModel:
    """Load a model from a card (object, id, bare name or path) or from ``checkpoint`` + ``arch``.

    With a card, the architecture, classes and normalisation are the card's (giving different ones is an
    error), the checkpoint (the card's, or ``checkpoint`` when given) must match the card's sha256, and
    an architecture naming code is refused unless ``trust_code``. Without a card, ``arch`` and
    ``num_classes`` are required (an ``arch`` typed by the caller is their choice: no trust needed).
    ``dataset`` (anything with ``name``, ``mean``, ``std``, e.g. an ImageDataset) informs the
    normalisation rule of robench.models.normalization. ``classes_from`` says where ``num_classes`` came
    from when the data gave it (for the error when the checkpoint's head has another count).
    """
    given = {"arch": arch, "num_classes": num_classes, "in_channels": in_channels}
    given |= {"mean": mean, "std": std, "arch_kwargs": arch_kwargs}
    if card is not None:
        card = find_card(card, trust_code=trust_code) if isinstance(card, str) else card
        request = _from_card(card, given, checkpoint, trust_code)
    else:
        request = _from_caller(given, checkpoint)
    net, sha256, fitted, notes = _built(request, card, dataset, classes_from)
    source, loaded = str(request.checkpoint), sha256 is not None
    name = card.id if card is not None else Path(request.checkpoint).stem if loaded else request.arch
    normalization = _normalization(request, fitted, dataset, source if loaded else name)
    if normalization.source == "checkpoint":
        notes += (
            f"{source}: robench applies its normalisation before the network, {normalization.describe()}",
        )
    for note in notes:
        warnings.warn(note, LoadNote, stacklevel=2)
    module = prepare_for_eval(normalize(net, normalization.mean, normalization.std), quiet=True).to(device)
    return LoadedModel(
        module=module,
        name=name,
        sha256=sha256,
        card=card,
        architecture=request.arch,
        layout=concrete_layout(ARCHITECTURES.canonical(request.arch)),
        arch_kwargs=request.arch_kwargs,
        normalization=normalization,
        notes=notes,
    )


def load_any(
    model: ModelCard | str | None = None,
    *,
    model_dir: str | os.PathLike | None = None,
    download: bool = False,
    **options: Any,
) -> LoadedModel:
    """``robench.load_model``: a RobustBench zoo model by name (``robustbench:<dataset>/<threat>/<name>``;
    ``model_dir``, ``download`` and ``device`` apply), else :func:`load_model` (a card, or a checkpoint and
    its architecture, with its keyword options)."""
    from robench.models.robustbench import is_zoo_name

    if not is_zoo_name(model):
        if model_dir is not None or download:
            raise RobenchError("model_dir and download are for robustbench: models ('robustbench:...')")
        return load_model(model, **options)
    from robench.models.robustbench.entries import refuse_options
    from robench.models.robustbench.load import load_zoo_model

    refuse_options(model, sorted(k for k, v in options.items() if k != "device" and v is not None))
    return load_zoo_model(model, model_dir=model_dir, download=download, device=options.get("device", "cpu"))


def load_model_from_module(
    module: nn.Module,
    *,
    mean: Sequence[float] | None = None,
    std: Sequence[float] | None = None,
    name: str | None = None,
    device: str = "cpu",
) -> LoadedModel:
    """Wrap a user's nn.Module (Python API); a module in train mode is switched to eval, with a warning."""
    if not isinstance(module, nn.Module):
        raise RobenchError(f"expected a torch nn.Module, got {type(module).__name__}")
    prepare_for_eval(module)  # warns when it had to switch from train mode
    name = name or type(module).__name__
    if (mean is None) != (std is None):
        raise RobenchError("give both mean and std, or neither")
    normalization = Normalization((), (), "none", "the module as given")
    if mean is not None and std is not None:
        if len(mean) != len(std):
            raise RobenchError(f"mean has {len(mean)} values but std has {len(std)}")
        module = prepare_for_eval(normalize(module, mean, std), quiet=True)
        normalization = Normalization(tuple(map(float, mean)), tuple(map(float, std)), "explicit")
    return LoadedModel(module=module.to(device), name=name, sha256=None, normalization=normalization)
