"""Architecture registry (lazy: importing robench imports no architecture) and model construction."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from torch import nn

from robench.errors import RobenchError
from robench.models.wrapper import Normalized, normalize, prepare_for_eval
from robench.registry import Registry

ARCHITECTURES: Registry = Registry("architecture", allow_user_code=True)
ARCHITECTURES.add("small_cnn", "robench.models.archs.small_cnn:small_cnn")
ARCHITECTURES.add("preact_resnet18", "robench.models.archs.preact_resnet:preact_resnet18")
ARCHITECTURES.add("resnet18", "robench.models.archs.resnet:resnet18")
ARCHITECTURES.add("wide_resnet", "robench.models.archs.wide_resnet:wide_resnet")
ARCHITECTURES.add("wrn_28_10", "robench.models.archs.wide_resnet:wrn_28_10")
ARCHITECTURES.add("wrn_34_10", "robench.models.archs.wide_resnet:wrn_34_10")


def _accepted(factory: Callable[..., Any]) -> tuple[set[str], bool] | None:
    """Keyword names the factory accepts and whether it takes **kwargs; None when not inspectable."""
    try:
        parameters = inspect.signature(factory).parameters.values()
    except (TypeError, ValueError):
        return None
    names = {p.name for p in parameters if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    return names, any(p.kind is p.VAR_KEYWORD for p in parameters)


def create_model(arch: str, num_classes: int = 10, in_channels: int = 3, **kwargs: Any) -> nn.Module:
    """Build an architecture by registered name or ``package.module:factory`` (without normalisation).

    ``num_classes`` and ``in_channels`` are passed when the factory's signature accepts them (a user's
    factory may hard-code them); any other keyword the factory does not accept is a user error.
    """
    factory = ARCHITECTURES.get(arch)
    if not callable(factory):
        raise RobenchError(
            f"architecture '{arch}' is not callable (expected a factory returning an nn.Module)"
        )
    accepted = _accepted(factory)
    call_kwargs = dict(kwargs)
    if accepted is None:
        call_kwargs.update(num_classes=num_classes, in_channels=in_channels)
    else:
        names, takes_any = accepted
        for key, value in (("num_classes", num_classes), ("in_channels", in_channels)):
            if takes_any or key in names:
                call_kwargs[key] = value
        unknown = sorted(k for k in kwargs if k not in names) if not takes_any else []
        if unknown:
            options = ", ".join(sorted(names - {"num_classes", "in_channels"})) or "none"
            raise RobenchError(
                f"architecture '{arch}' does not accept {', '.join(repr(k) for k in unknown)} "
                f"(its options: {options})"
            )
    model = factory(**call_kwargs)
    if not isinstance(model, nn.Module):
        raise RobenchError(f"architecture '{arch}' returned {type(model).__name__}, not a torch nn.Module")
    return model


__all__ = ["ARCHITECTURES", "Normalized", "create_model", "normalize", "prepare_for_eval"]
