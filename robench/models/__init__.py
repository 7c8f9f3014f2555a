"""Architecture registry (lazy: importing robench imports no architecture) and model construction.

The registered names are the rows of robench.models.layouts.LAYOUTS, one per checkpoint layout of the
field's public codebases; ``package.module:function`` names a user factory (torchvision, timm, own code).
"""

from __future__ import annotations

import inspect
import math
import typing
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from robench.core.documents import type_problem
from robench.core.limits import CLASSES, PARAMETERS
from robench.errors import RobenchError
from robench.models.layouts import LAYOUTS, find_layout, layout_table
from robench.registry import Registry, lazy_attributes, names_code

if TYPE_CHECKING:
    from torch import nn

__getattr__ = lazy_attributes(  # imported on first use: ``import robench.models`` does not import torch
    __name__,
    {name: "robench.models.wrapper" for name in ("Normalized", "normalize", "prepare_for_eval")},
)

ARCHITECTURES: Registry = Registry("architecture", allow_user_code=True)
for _layout in LAYOUTS:
    ARCHITECTURES.add(_layout.name, _layout.factory)

BUILT_IN = ("num_classes", "in_channels")
CHANNEL_NAMES = ("in_channels", "in_chans")  # robench's and torchvision-style; timm's


def _named_parameters(factory: Callable[..., Any]) -> tuple[set[str], bool] | None:
    """Keyword names the factory's signature spells out, and whether it takes **kwargs; None if unknown."""
    try:
        parameters = inspect.signature(factory).parameters.values()
    except (TypeError, ValueError):
        return None
    names = {p.name for p in parameters if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    return names, any(p.kind is p.VAR_KEYWORD for p in parameters)


def _call_arguments(
    arch: str, factory: Callable[..., Any], num_classes: int, in_channels: int, options: dict[str, Any]
) -> dict[str, Any]:
    """``num_classes`` where the signature names it or takes ``**kwargs`` (torchvision's and timm's
    factories take it so); the channels as ``in_channels`` or ``in_chans`` (timm) where named; every
    option as given."""
    signature = _named_parameters(factory)
    names, takes_any = signature if signature is not None else (set(), True)
    call: dict[str, Any] = {"num_classes": num_classes} if "num_classes" in names or takes_any else {}
    call |= {key: in_channels for key in CHANNEL_NAMES if key in names}
    clashes = [f"{k}={options[k]!r}" for k in call if k in options and options[k] != call[k]]
    if clashes:
        raise RobenchError(
            f"architecture '{arch}': arch kwargs {', '.join(clashes)} contradict the model's "
            f"{num_classes} classes / {in_channels} channels"
        )
    unknown = sorted(k for k in options if k not in names) if not takes_any else []
    if unknown:
        choices = ", ".join(sorted(names - {*BUILT_IN, *CHANNEL_NAMES})) or "none"
        raise RobenchError(
            f"architecture '{arch}' does not accept {', '.join(repr(k) for k in unknown)} "
            f"(its options: {choices})"
        )
    return {**call, **options}


def _check_classes(arch: str, num_classes: object) -> None:
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or not 1 <= num_classes <= CLASSES:
        raise RobenchError(
            f"architecture '{arch}': the number of classes must be an integer from 1 to {CLASSES:,} "
            f"(robench.core.limits.CLASSES), got {num_classes!r}"
        )


def _check_types(arch: str, factory: Callable[..., Any], arguments: dict[str, Any]) -> None:
    """A robench factory's arguments (from a card or --arch-kwargs: JSON) hold the types its signature
    declares; integers (depth, width, channels) are positive, numbers finite."""
    try:
        hints = typing.get_type_hints(factory)
    except Exception:  # noqa: BLE001 - an annotation that does not resolve: nothing to check against
        hints = {}
    for key, value in arguments.items():
        problem = type_problem(value, hints.get(key, Any))
        if problem is None and isinstance(value, int) and not isinstance(value, bool) and value < 1:
            problem = "a positive integer"
        if problem is None and isinstance(value, float) and not math.isfinite(value):
            problem = "a finite number"
        if problem is not None:
            raise RobenchError(f"architecture '{arch}': {key} must be {problem}, got {value!r}")


def _check_size(arch: str, factory: Callable[..., Any], arguments: dict[str, Any]) -> None:
    """Build on the meta device first (no memory): more than PARAMETERS parameters is refused."""
    import torch

    with torch.device("meta"):
        count = sum(p.numel() for p in factory(**arguments).parameters())
    if count > PARAMETERS:
        raise RobenchError(
            f"architecture '{arch}' with these settings has {count:,} parameters, more than the cap of "
            f"{PARAMETERS:,} (robench.core.limits.PARAMETERS)"
        )


def create_model(
    arch: str,
    num_classes: int = 10,
    in_channels: int = 3,
    *,
    options: dict[str, Any] | None = None,
    **kwargs: Any,
) -> nn.Module:
    """Build an architecture by registered name or ``package.module:factory`` (without normalisation).

    ``num_classes`` is passed to a factory whose signature names it or takes ``**kwargs`` (torchvision's
    and timm's convention: ``torchvision.models:resnet18`` with 10 classes builds a 10-class head), the
    channels to one that names ``in_channels`` or ``in_chans`` (timm).
    The options are ``options`` (the arch kwargs; they may hold ``num_classes``) and ``kwargs``; one a
    factory does not accept is a user error. A user factory that raises is one RobenchError naming it
    and its error; robench's own factories raise only RobenchError for bad options.
    """
    kwargs = {**(options or {}), **kwargs}
    factory = ARCHITECTURES.get(arch)
    if not callable(factory):
        raise RobenchError(
            f"architecture '{arch}' is not callable (expected a factory returning an nn.Module)"
        )
    from torch import nn

    arguments = _call_arguments(arch, factory, num_classes, in_channels, kwargs)
    user_code = names_code(arch) and arch not in ARCHITECTURES
    _check_classes(arch, num_classes)
    if not user_code:
        _check_types(arch, factory, arguments)
    try:
        if not user_code:
            _check_size(arch, factory, arguments)
        model = factory(**arguments)
    except RobenchError:
        raise
    except Exception as exc:
        reason = f"{type(exc).__name__}: {' '.join(str(exc).split())[:200] or 'no message'}"
        if user_code:
            raise RobenchError(f"architecture '{arch}' raised {reason}") from exc
        if not kwargs:
            raise  # a bug in robench's own architectures: a traceback, not a user error
        shown = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
        raise RobenchError(f"architecture '{arch}' cannot be built with {shown} ({reason})") from exc
    if not isinstance(model, nn.Module):
        raise RobenchError(f"architecture '{arch}' returned {type(model).__name__}, not a torch nn.Module")
    return model


__all__ = [
    "ARCHITECTURES",
    "Normalized",
    "create_model",
    "find_layout",
    "layout_table",
    "normalize",
    "prepare_for_eval",
]
