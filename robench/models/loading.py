"""Build a model ready for evaluation: from a card, from ``--checkpoint/--arch``, or from an nn.Module.

The architecture comes from the card or the caller, never from the checkpoint file; weights are read
safely (robench.models.checkpoint) and the sha256 is checked against the card. The result is wrapped
with its normalisation (attacks work in [0, 1]) and prepared for evaluation: eval mode, no parameter
gradients.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from torch import nn

from robench.errors import CheckpointError, RobenchError
from robench.models import create_model
from robench.models.cards import ModelCard, find_card
from robench.models.checkpoint import fit_state_dict, read_state_dict, sha256_file
from robench.models.wrapper import normalize, prepare_for_eval


@dataclass
class LoadedModel:
    """An evaluation-ready model: normalisation inside, eval mode, parameter gradients off."""

    module: nn.Module
    name: str
    sha256: str | None
    card: ModelCard | None = None
    architecture: str | None = None


def _conflicts(card: ModelCard, given: dict[str, Any]) -> list[str]:
    from_card = {
        "arch": card.architecture,
        "num_classes": card.num_classes,
        "in_channels": card.in_channels,
        "mean": list(card.mean),
        "std": list(card.std),
        "arch_kwargs": card.arch_kwargs,
    }
    conflicts = []
    for key, value in given.items():
        if value is None:
            continue
        if isinstance(value, Sequence) and not isinstance(value, str):
            value = [float(v) for v in value]
        if value != from_card[key]:
            conflicts.append(f"{key}={value!r} (card: {from_card[key]!r})")
    return conflicts


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
) -> LoadedModel:
    """Load a model from a card (object, id, bare name or path) or from ``checkpoint`` + ``arch``.

    With a card, the architecture, classes and normalisation are the card's (giving different ones is an
    error) and the checkpoint (the card's, or ``checkpoint`` when given) must match the card's sha256.
    Without a card, ``arch`` and ``num_classes`` are required; ``checkpoint`` may be omitted only when
    the architecture is a user factory that loads its own weights.
    """
    given = {"arch": arch, "num_classes": num_classes, "in_channels": in_channels}
    given |= {"mean": mean, "std": std, "arch_kwargs": arch_kwargs}
    if card is not None:
        card = find_card(card) if isinstance(card, str) else card
        conflicts = _conflicts(card, given)
        if conflicts:
            raise RobenchError(f"model card {card.id} fixes these settings; drop {', '.join(conflicts)}")
        arch, num_classes, in_channels = card.architecture, card.num_classes, card.in_channels
        mean, std, arch_kwargs = card.mean, card.std, card.arch_kwargs
        checkpoint = checkpoint if checkpoint is not None else card.checkpoint_path
    else:
        if arch is None:
            raise RobenchError("give a model card (--model) or an architecture (--arch) for the checkpoint")
        if num_classes is None:
            raise RobenchError(f"give the number of classes (--num-classes) for architecture '{arch}'")
    if (mean is None) != (std is None):
        raise RobenchError("give both mean and std (--mean and --std), or neither")
    mean = tuple(mean) if mean is not None else (0.0,) * (in_channels or 3)
    std = tuple(std) if std is not None else (1.0,) * len(mean)
    if len(mean) != len(std):
        raise RobenchError(f"mean has {len(mean)} values but std has {len(std)}")
    in_channels = in_channels if in_channels is not None else len(mean)
    if len(mean) != in_channels:
        raise RobenchError(f"mean/std have {len(mean)} values but the model takes {in_channels} channels")

    sha256 = None
    state = None
    if checkpoint is not None:
        state = read_state_dict(checkpoint)  # first: a missing or bad file is reported before anything else
        sha256 = sha256_file(checkpoint)
        if card is not None and sha256 != card.sha256:
            raise CheckpointError(
                f"sha256 of {checkpoint} is {sha256[:16]}… but card {card.id} says {card.sha256[:16]}…; "
                "the file is not the checkpoint the card describes"
            )
    net = create_model(arch, num_classes=num_classes, in_channels=in_channels, **(arch_kwargs or {}))
    if state is not None:
        fit_state_dict(net, state, arch=arch, num_classes=num_classes, source=str(checkpoint))
    module = prepare_for_eval(normalize(net, mean, std), quiet=True).to(device)
    if card is not None:
        name = card.id
    elif checkpoint is not None:
        name = Path(checkpoint).stem
    else:
        name = arch
    return LoadedModel(module=module, name=name, sha256=sha256, card=card, architecture=arch)


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
    if mean is not None and std is not None:
        if len(mean) != len(std):
            raise RobenchError(f"mean has {len(mean)} values but std has {len(std)}")
        module = prepare_for_eval(normalize(module, mean, std), quiet=True)
    return LoadedModel(module=module.to(device), name=name, sha256=None)
