"""The one normalisation rule: which mean/std a loaded model applies, and where they came from.

In order: the caller's mean/std (``--mean/--std``) or the card's (the two cannot differ: the card fixes
them); else buffers in the checkpoint (``mu``/``sigma``, ``mean``/``std``, robustness' ``normalizer``);
else the architecture's own (DeepMind's code normalises inside with its CIFAR-10 / CIFAR-100 values);
else none, with a warning when the dataset is usually normalised. Checkpoint buffers must agree with the
caller's or the card's values, or it is an error. The values are applied by ``Normalized`` in front of
the network, so attacks see [0, 1] inputs, and recorded on ``LoadedModel.normalization``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from robench.errors import CheckpointError, RobenchError
from robench.models.keys import CheckpointNormalization
from robench.models.layouts import Layout

SOURCES = ("explicit", "card", "checkpoint", "architecture", "none")
TOLERANCE = 1e-6  # float32 buffers hold 0.4914 as 0.49140000343...
_GIVEN_BY = {"explicit": "the --mean/--std values", "card": "the card's values"}


@dataclass(frozen=True)
class Normalization:
    """What a loaded model applies in front of its network: ``(x - mean) / std``."""

    mean: tuple[float, ...]
    std: tuple[float, ...]
    source: str  # one of SOURCES
    detail: str = ""

    @property
    def is_identity(self) -> bool:
        return all(m == 0 for m in self.mean) and all(s == 1 for s in self.std)

    def to_dict(self) -> dict[str, Any]:
        return {"mean": list(self.mean), "std": list(self.std), "source": self.source, "detail": self.detail}

    def describe(self) -> str:
        if self.is_identity:
            return f"no normalisation ({self.detail or self.source})"
        values = f"mean {_fmt(self.mean)} std {_fmt(self.std)}"
        return f"{values} from the {self.source}" + (f" ({self.detail})" if self.detail else "")


def check_mean_std(mean: Sequence[float], std: Sequence[float], given_by: str) -> None:
    """The one check of a normalisation, wherever it comes from (``given_by`` names that in the error):
    as many finite means as stds, numbers (not booleans), every std finite and positive."""
    for name, values in (("mean", mean), ("std", std)):
        if isinstance(values, str) or not isinstance(values, Sequence) or not values:
            raise RobenchError(f"{given_by}: '{name}' must be a non-empty list of numbers, got {values!r}")
        if any(isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) for v in values):
            raise RobenchError(f"{given_by}: '{name}' values must be finite numbers, got {list(values)!r}")
    if len(mean) != len(std):
        raise RobenchError(f"{given_by}: 'mean' has {len(mean)} values but 'std' has {len(std)}")
    if any(s <= 0 for s in std):
        raise RobenchError(f"{given_by}: 'std' values must be positive, got {list(std)!r}")


def _fmt(values: Sequence[float]) -> str:
    return ",".join(f"{v:.6g}" for v in values)


def _agree(a: Sequence[float], b: Sequence[float]) -> bool:
    return len(a) == len(b) and all(abs(x - y) <= TOLERANCE for x, y in zip(a, b, strict=True))


def _own_values(layout: Layout | None, dataset: Any) -> Normalization | None:
    """The mean/std the layout's own code applies inside, for this dataset; None if none or unknown."""
    name = getattr(dataset, "name", None)
    if layout is None or name not in layout.normalization:
        return None
    mean, std = layout.normalization[name]
    return Normalization(tuple(mean), tuple(std), "architecture", f"{layout.codebase.split(';')[0]}, {name}")


def _architecture_values(layout: Layout | None, dataset: Any, arch: str) -> Normalization | None:
    """``_own_values``; an error when the layout normalises inside with values unknown for the dataset."""
    own = _own_values(layout, dataset)
    if own is not None or layout is None or not layout.normalization:
        return own
    name = getattr(dataset, "name", None)
    raise RobenchError(
        f"architecture '{arch}' normalises its input inside its authors' code, with values robench knows for "
        f"{', '.join(sorted(layout.normalization))} only; give its mean/std (--mean/--std or the card) for "
        f"{'dataset ' + repr(name) if name else 'this model'}"
    )


def _warn_if_dataset_normalises(dataset: Any, model: str) -> None:
    mean, std = getattr(dataset, "mean", None), getattr(dataset, "std", None)
    if mean is None or std is None or (all(m == 0 for m in mean) and all(s == 1 for s in std)):
        return
    warnings.warn(
        f"no normalisation given for {model}: robench applies none (the network sees [0, 1] inputs); "
        f"{dataset.name} models are often trained on normalised inputs (mean {_fmt(mean)} std {_fmt(std)}): "
        "if yours was, give --mean/--std or put them in its card",
        stacklevel=3,
    )


def choose_normalization(
    *,
    given: tuple[Sequence[float], Sequence[float]] | None,
    given_by: str,
    checkpoint: CheckpointNormalization | None,
    layout: Layout | None,
    arch: str,
    dataset: Any = None,
    in_channels: int,
    model: str,
) -> Normalization:
    """Apply the rule of the module docstring; ``given_by`` is "explicit" or "card"."""
    if given is not None:
        check_mean_std(given[0], given[1], _GIVEN_BY[given_by])
        mean, std = tuple(float(v) for v in given[0]), tuple(float(v) for v in given[1])
        if checkpoint is not None and not (_agree(mean, checkpoint.mean) and _agree(std, checkpoint.std)):
            raise CheckpointError(
                f"{model} carries its normalisation ({checkpoint.found_in}: mean {_fmt(checkpoint.mean)} "
                f"std {_fmt(checkpoint.std)}) but {_GIVEN_BY[given_by]} are mean {_fmt(mean)} std "
                f"{_fmt(std)}; they must agree (fix one, or give none to use the checkpoint's)"
            )
        own = _own_values(layout, dataset)
        if own is not None and not (_agree(mean, own.mean) and _agree(std, own.std)):
            warnings.warn(
                f"{model}: {_GIVEN_BY[given_by]} (mean {_fmt(mean)} std {_fmt(std)}) differ from the values "
                f"{arch}'s authors' code normalises {dataset.name} with (mean {_fmt(own.mean)} std "
                f"{_fmt(own.std)}); robench applies {_GIVEN_BY[given_by]}",
                stacklevel=2,
            )
        detail = f"agrees with the checkpoint's {checkpoint.found_in}" if checkpoint else ""
        return _checked(Normalization(mean, std, given_by, detail), in_channels)
    if checkpoint is not None:
        return _checked(
            Normalization(checkpoint.mean, checkpoint.std, "checkpoint", checkpoint.found_in), in_channels
        )
    own = _architecture_values(layout, dataset, arch)
    if own is not None:
        return _checked(own, in_channels)
    _warn_if_dataset_normalises(dataset, model)
    return Normalization((0.0,) * in_channels, (1.0,) * in_channels, "none", "none given")


def _checked(normalization: Normalization, in_channels: int) -> Normalization:
    source = _GIVEN_BY.get(normalization.source, f"the {normalization.source}'s normalisation")
    check_mean_std(normalization.mean, normalization.std, source)
    if len(normalization.mean) != in_channels:
        raise RobenchError(
            f"the {normalization.source}'s mean/std have {len(normalization.mean)} values but the model "
            f"takes {in_channels} input channels"
        )
    return normalization
