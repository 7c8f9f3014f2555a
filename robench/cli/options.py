"""Option parsing shared by the subcommands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

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


# Options several subcommands take, with one help text each.
DeviceOption = Annotated[str, typer.Option(help="cpu or cuda")]
StoreOption = Annotated[
    Path | None, typer.Option(help="results store (default: $ROBENCH_STORE or ~/.local/share)")
]
LeaderboardsOption = Annotated[
    Path | None, typer.Option(help="leaderboards folder (default: ./leaderboards)")
]
ReportsOption = Annotated[Path | None, typer.Option(help="reports folder (default: ./reports)")]
