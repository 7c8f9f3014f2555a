"""``robench report``: regenerate per-model reports from leaderboard entries."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from robench.errors import RobenchError


def report_command(
    names: Annotated[
        list[str] | None, typer.Argument(help="entry names (default: every entry of the board)")
    ] = None,
    dataset: Annotated[str, typer.Option(help="dataset of the board")] = "digits",
    threat: Annotated[str, typer.Option(help="threat model of the board")] = "linf",
    leaderboards: Annotated[
        Path | None, typer.Option(help="leaderboards folder (default: ./leaderboards)")
    ] = None,
    reports: Annotated[Path | None, typer.Option(help="reports folder (default: ./reports)")] = None,
) -> None:
    """Write reports/<dataset>/<threat>/<name>.md and .html with their plots."""
    from robench.leaderboard.entries import load_entries
    from robench.pipeline.report import regenerate_report

    entries = load_entries(dataset, threat, leaderboards)
    if names:
        unknown = sorted(set(names) - {e.name for e in entries})
        if unknown:
            raise RobenchError(f"no entry '{unknown[0]}' on the {dataset}/{threat} board")
        entries = [e for e in entries if e.name in names]
    if not entries:
        raise RobenchError(f"the {dataset}/{threat} board has no entries (submit a model first)")
    for entry in entries:
        files = regenerate_report(entry, reports)
        typer.echo(f"{entry.name}: {files.md} (.html, {len(files.figures)} figures)")


def register(app: typer.Typer) -> None:
    app.command("report")(report_command)
