"""Bring a checkpoint's keys to the network's: known wrappers and prefixes, normalisation buffers, and
weights the layout's own forward never uses. Every change is exact and named; nothing is guessed.

- prefixes ``module.`` (DataParallel), ``_orig_mod.`` (torch.compile), ``model.`` (RobustBench wrappers),
  stripped only when every key has it and no key of the network does;
- MadryLab/robustness' ``AttackerModel``: ``normalizer.new_mean/new_std`` + ``model.*`` + an
  ``attacker.*`` copy of the same tensors (the copy is checked equal, then dropped);
- yaircarmon/semisup-adv ``normalize_input``: ``Sequential(NormalizeInput, net)``, keys ``0.mean/0.std``
  + ``1.*``;
- normalisation buffers ``mu``/``sigma`` (RobustBench), ``mean``/``std``, ``normalize.mean/std``: read as
  the model's normalisation (robench.models.normalization decides what is applied);
- the layout's unused prefixes (``sub_block1.`` of the TRADES WideResNet): dropped with a note.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

import torch

from robench.errors import CheckpointError

PREFIXES = ("module.", "_orig_mod.", "model.")
PREFIX_WRITERS = {"module.": "DataParallel/DDP", "_orig_mod.": "torch.compile", "model.": "a model wrapper"}
# (mean key, std key, prefix of the wrapped network's keys, who writes it)
NORMALIZATION_BUFFERS = (
    ("mu", "sigma", "", "RobustBench mu/sigma buffers"),
    ("mean", "std", "", "mean/std buffers"),
    ("normalize.mean", "normalize.std", "", "normalize.mean/std buffers"),
    ("normalizer.new_mean", "normalizer.new_std", "model.", "MadryLab/robustness normalizer"),
    ("0.mean", "0.std", "1.", "semisup-adv NormalizeInput"),
)


@dataclass(frozen=True)
class CheckpointNormalization:
    """Mean/std found in a checkpoint, and where."""

    mean: tuple[float, ...]
    std: tuple[float, ...]
    found_in: str  # e.g. "RobustBench mu/sigma buffers"


@dataclass
class AdaptedState:
    state: dict[str, torch.Tensor]
    normalization: CheckpointNormalization | None = None
    notes: list[str] = field(default_factory=list)
    as_saved: dict[str, torch.Tensor] | None = None  # before unused weights were dropped (for hints)


def strip_prefixes(
    state: dict[str, torch.Tensor],
    expected: set[str],
    prefixes: Iterable[str] = PREFIXES,
    stripped: list[str] | None = None,
) -> dict[str, torch.Tensor]:
    """Remove each prefix every key carries and no expected key does (repeatedly: module._orig_mod.);
    each prefix removed is appended to ``stripped``."""
    prefixes = tuple(prefixes)
    changed = True
    while changed:
        changed = False
        for prefix in prefixes:
            if all(k.startswith(prefix) for k in state) and not any(k.startswith(prefix) for k in expected):
                state = {k[len(prefix) :]: v for k, v in state.items()}
                changed = True
                if stripped is not None:
                    stripped.append(prefix)
    return state


def _prefix_notes(stripped: list[str], source: str) -> list[str]:
    return [f"{source}: stripped the '{p}' prefix of every key ({PREFIX_WRITERS[p]})" for p in stripped]


def _channels(tensor: torch.Tensor) -> tuple[float, ...] | None:
    """Per-channel values of a (C,), (C,1,1) or (1,C,1,1) buffer; None for any other shape."""
    count = tensor.numel()
    if not tensor.is_floating_point() or tuple(tensor.shape) not in (
        (count,),
        (count, 1, 1),
        (1, count, 1, 1),
    ):
        return None
    return tuple(float(v) for v in tensor.flatten())


def _plausible(mean: tuple[float, ...] | None, std: tuple[float, ...] | None) -> bool:
    if mean is None or std is None or len(mean) != len(std):
        return False
    return all(math.isfinite(v) for v in mean + std) and all(s > 0 for s in std)


def take_normalization(state: dict[str, torch.Tensor], expected: set[str]) -> AdaptedState:
    """Read (and remove) normalisation buffers the network itself does not have."""
    for mean_key, std_key, inner, found_in in NORMALIZATION_BUFFERS:
        if mean_key not in state or std_key not in state or {mean_key, std_key} & expected:
            continue
        mean, std = _channels(state[mean_key]), _channels(state[std_key])
        if not _plausible(mean, std):
            continue
        rest = {k: v for k, v in state.items() if k not in (mean_key, std_key)}
        if inner:
            if not all(k.startswith(inner) for k in rest):
                continue
            rest = {k[len(inner) :]: v for k, v in rest.items()}
        return AdaptedState(rest, CheckpointNormalization(mean, std, found_in))
    return AdaptedState(state)


def drop_attacker_copy(state: dict[str, torch.Tensor], expected: set[str], source: str) -> AdaptedState:
    """MadryLab/robustness saves its network twice (``model.*`` and ``attacker.model.*``): keep one."""
    copy = {k: v for k, v in state.items() if k.startswith("attacker.")}
    if not copy or any(k.startswith("attacker.") for k in expected):
        return AdaptedState(state)
    originals = {"attacker.normalize.": "normalizer.", "attacker.model.": "model."}
    for key, tensor in copy.items():
        prefix = next((p for p in originals if key.startswith(p)), None)
        twin = originals[prefix] + key[len(prefix) :] if prefix else None
        if twin is None or twin not in state or not torch.equal(state[twin], tensor):
            raise CheckpointError(
                f"{source} holds an attacker.* copy of the network (MadryLab/robustness layout) that differs "
                f"from model.* at {key}; robench will not choose between them"
            )
    rest = {k: v for k, v in state.items() if not k.startswith("attacker.")}
    note = f"{source}: dropped the {len(copy)} attacker.* keys, a copy of model.* (MadryLab/robustness)"
    return AdaptedState(rest, notes=[note])


def drop_unused(
    state: dict[str, torch.Tensor], expected: set[str], prefixes: Iterable[str], arch: str, source: str
) -> AdaptedState:
    """Drop weights under the layout's unused prefixes (its authors' forward never reads them)."""
    notes = []
    for prefix in prefixes:
        unused = [k for k in state if k.startswith(prefix) and k not in expected]
        if unused:
            state = {k: v for k, v in state.items() if k not in set(unused)}
            notes.append(
                f"{source}: dropped {len(unused)} {prefix}* weights that {arch}'s forward never uses"
            )
    return AdaptedState(state, notes=notes)


def adapt_keys(
    state: dict[str, torch.Tensor], expected: set[str], *, arch: str, source: str, unused: Iterable[str] = ()
) -> AdaptedState:
    """All the adaptations above, in order; the result's ``state`` is ready for strict loading.

    ``expected`` holds the network's state dict keys and all its buffer names (non-persistent ones too:
    a network that keeps its own ``mean``/``std`` normalises itself, so such keys are never taken).
    """
    prefixes: list[str] = []
    state = strip_prefixes(state, expected, PREFIXES[:2], prefixes)
    attacker = drop_attacker_copy(state, expected, source)
    found = take_normalization(attacker.state, expected)
    stripped = strip_prefixes(found.state, expected, PREFIXES, prefixes)
    trimmed = drop_unused(stripped, expected, unused, arch, source)
    notes = _prefix_notes(prefixes, source) + attacker.notes + trimmed.notes
    return AdaptedState(trimmed.state, found.normalization, notes, stripped)


def checkpoint_normalization(state: dict[str, torch.Tensor]) -> CheckpointNormalization | None:
    """The normalisation buffers a checkpoint carries, read before any network is built (a card that
    leaves its mean/std to the checkpoint takes its input channels from them)."""
    state = strip_prefixes(state, set(), PREFIXES[:2])
    return take_normalization(drop_attacker_copy(state, set(), "checkpoint").state, set()).normalization
