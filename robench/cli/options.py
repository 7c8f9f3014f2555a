"""Option parsing shared by the subcommands."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from robench.errors import RobenchError


def parse_floats(text: str | None, option: str) -> tuple[float, ...] | None:
    """``"0.5,0.5,0.5"`` -> (0.5, 0.5, 0.5); None stays None; anything else is the user's error."""
    if text is None:
        return None
    try:
        return tuple(float(v) for v in text.split(","))
    except ValueError:
        raise RobenchError(
            f"{option} must be comma-separated numbers such as 0.5,0.5,0.5, got '{text}'"
        ) from None


def parse_arch_kwargs(text: str | None) -> dict[str, Any] | None:
    """``--arch-kwargs '{"width": 16}'`` -> {"width": 16}; None stays None; else the user's error."""
    if text is None:
        return None
    try:
        kwargs = json.loads(text)
    except json.JSONDecodeError:
        kwargs = None
    if not isinstance(kwargs, dict):
        raise RobenchError(f"--arch-kwargs must be a JSON object, got '{text}'")
    return kwargs


# Options several subcommands take, with one help text each.
DeviceOption = Annotated[str, typer.Option(help="cpu or cuda")]
StoreOption = Annotated[
    Path | None, typer.Option(help="results store (default: $ROBENCH_STORE or ~/.local/share)")
]
LeaderboardsOption = Annotated[
    Path | None, typer.Option(help="leaderboards folder (default: ./leaderboards)")
]
ReportsOption = Annotated[Path | None, typer.Option(help="reports folder (default: ./reports)")]
ArchKwargsOption = Annotated[
    str | None, typer.Option(help='architecture keyword arguments as JSON, e.g. {"width": 16}')
]
