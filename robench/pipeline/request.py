"""One typed, frozen settings object per request, built once by the CLI or the Python API.

``EvaluationRequest`` groups the model spec, the data spec, the threat spec and the engine's run
settings, plus whether to certify the evaluated points too (``certify``: bounds of robench.certify, off by
default). ``request_from_options(model, **options)`` sorts flat keyword options (the CLI's flags, the
Python API's keywords, the pytest plugin's) into it by field name, so every entry point accepts the same
names with the same defaults and errors.
"""

from __future__ import annotations

import dataclasses
import difflib
import typing
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from robench.data.spec import DataSpec
from robench.engine.settings import RunSettings
from robench.errors import RobenchError
from robench.models.spec import ModelSpec
from robench.options import expected, fits, keyword, option, shown
from robench.threat import ThreatModel, parse_eps

if TYPE_CHECKING:  # the command line builds its options from these settings without importing torch
    from robench.data.base import ImageDataset


@dataclass(frozen=True)
class ThreatSpec:
    threat: str | None = field(default=None, metadata=option("linf or l2 (default: the card's)"))
    eps: float | None = field(
        default=None,
        metadata=option("radius, e.g. 0.3 or 8/255 (default: the card's)", parse=parse_eps),
    )


def certify_methods(value: Any) -> tuple[str, ...]:
    """``"ibp,crown"`` (or a sequence of names) -> ("ibp", "crown"), each a certify method, no repeats."""
    from robench.certify.bounds import METHODS

    names = value.split(",") if isinstance(value, str) else list(value)
    methods = tuple(dict.fromkeys(str(name).strip().lower() for name in names if str(name).strip()))
    if not methods or any(m not in METHODS for m in methods):
        raise ValueError(f"must name certify methods among {', '.join(METHODS)} (comma-separated)")
    return methods


@dataclass(frozen=True)
class EvaluationRequest:
    model: ModelSpec = field(default_factory=ModelSpec)
    data: DataSpec = field(default_factory=DataSpec)
    threat: ThreatSpec = field(default_factory=ThreatSpec)
    run: RunSettings = field(default_factory=RunSettings)
    diagnostics: bool = field(default=True, metadata=option("run the reliability checks after the suite"))
    points: ImageDataset | None = field(  # an in-memory dataset instead of ``data`` (Python API)
        default=None, metadata=option("evaluate these points (Python API: dataset=ImageDataset)", cli=False)
    )
    certify: tuple[str, ...] | None = field(
        default=None,
        metadata=option(
            "also certify the points with these bounds (ibp, crown-ibp, crown; comma-separated): the record "
            "then holds a certified lower bound beside the attacks' upper bound",
            parse=certify_methods,
        ),
    )

    def __post_init__(self) -> None:
        if self.certify is not None:
            try:
                object.__setattr__(self, "certify", certify_methods(self.certify))
            except ValueError as exc:
                raise RobenchError(f"--certify {exc}, got {self.certify!r}") from None

    def replace(self, **groups: Any) -> EvaluationRequest:
        return dataclasses.replace(self, **groups)


GROUPS = {"model": ModelSpec, "data": DataSpec, "threat": ThreatSpec, "run": RunSettings}


def request_from_options(model: Any = None, **options: Any) -> EvaluationRequest:
    """An EvaluationRequest from flat options named like the CLI's flags (``n=200``, ``dataset="digits"``,
    ``data_root=...``); ``model`` is a card id or name, or an nn.Module (then give ``dataset``). Unknown
    names are one error with a did-you-mean. ``threat`` may be a ThreatModel (its norm and eps); a
    ``dataset`` or ``threat`` of None means the default."""
    from robench.data.base import ImageDataset

    if isinstance(options.get("threat"), ThreatModel):
        options |= {"threat": options["threat"].norm, "eps": options["threat"].eps}
    options = {k: v for k, v in options.items() if v is not None or k not in ("dataset", "threat")}
    if model is not None:
        options["module" if not isinstance(model, str) else "model"] = model
    if isinstance(options.get("dataset"), ImageDataset):
        options["points"] = options.pop("dataset")
    groups: dict[str, dict[str, Any]] = {name: {} for name in GROUPS}
    owners: dict[str, list[tuple[str, str]]] = {}
    for group, cls in GROUPS.items():
        for f in dataclasses.fields(cls):
            owners.setdefault(keyword(f), []).append((group, f.name))  # a shared name sets every owner
    top = {f.name for f in dataclasses.fields(EvaluationRequest) if f.name not in GROUPS}
    for key, value in options.items():
        if key in owners:
            for group, name in owners[key]:
                check_type(key, value, GROUPS[group], name)
                groups[group][name] = value
        elif key in top:
            check_type(key, value, EvaluationRequest, key)
        else:
            raise RobenchError(_unknown_option(key, sorted(set(owners) | top)))
    built = {name: GROUPS[name](**values) for name, values in groups.items()}
    return EvaluationRequest(**built, **{k: options[k] for k in top if k in options})


#: what the Python API takes beyond a field's annotation: robench.evaluate(model, dataset, threat)
ALSO_ACCEPTED = {"dataset": "an ImageDataset", "threat": "a ThreatModel"}


def check_type(key: str, value: Any, cls: type, name: str) -> None:
    """A keyword option's value must fit its settings field's annotation (``n=2.5``, ``seed="x"``,
    ``dataset=object()`` are one RobenchError each); a field that parses text (``eps="8/255"``) takes it."""
    field_ = next(f for f in dataclasses.fields(cls) if f.name == name)
    hint = typing.get_type_hints(cls, localns=_annotation_names())[name]
    if (field_.metadata or {}).get("parse") is None and not fits(value, hint):
        also = f" or {ALSO_ACCEPTED[key]}" if key in ALSO_ACCEPTED else ""
        raise RobenchError(f"{key} must be {expected(hint)}{also}, got {shown(value)}")


def _annotation_names() -> dict[str, Any]:
    """The names settings annotate with but import only for type checkers (they import torch): the Python
    API's type checks resolve them here, after torch is loaded anyway."""
    from torch import nn

    from robench.data.base import ImageDataset
    from robench.models.loading import LoadedModel
    from robench.pipeline.target import Target

    return {"ImageDataset": ImageDataset, "LoadedModel": LoadedModel, "Target": Target, "nn": nn}


def _unknown_option(key: str, known: list[str]) -> str:
    close = difflib.get_close_matches(key, known, n=2)
    hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    return f"unknown option '{key}'{hint} (options: {', '.join(known)})"
