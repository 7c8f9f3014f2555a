"""``robench leaderboard``: regenerate boards (.md/.csv/.html + scatter) from their entry files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from robench.errors import RobenchError


def leaderboard_command(
    dataset: Annotated[str | None, typer.Option(help="only this dataset's boards")] = None,
    threat: Annotated[str | None, typer.Option(help="only this threat model's boards")] = None,
    leaderboards: Annotated[
        Path | None, typer.Option(help="leaderboards folder (default: ./leaderboards)")
    ] = None,
    reports: Annotated[
        Path | None, typer.Option(help="reports folder the boards link to (default: ./reports)")
    ] = None,
) -> None:
    """Regenerate leaderboards from leaderboards/<dataset>/<threat>/entries/*.json."""
    from robench.leaderboard.entries import leaderboards_root, list_boards
    from robench.leaderboard.render import write_board
    from robench.reports.build import reports_root

    boards = [(d, t) for d, t in list_boards(leaderboards) if dataset in (None, d) and threat in (None, t)]
    if not boards:
        where = leaderboards_root(leaderboards)
        wanted = "/".join(x for x in (dataset or "*", threat or "*"))
        raise RobenchError(f"no leaderboard entries under {where}/{wanted}/entries (submit a model first)")
    for d, t in boards:
        files = write_board(d, t, leaderboards, reports=reports_root(reports) / d / t)
        typer.echo(f"{d}/{t}: {files.entries} entries -> {files.md}, {files.csv.name}, {files.html.name}")


def register(app: typer.Typer) -> None:
    app.command("leaderboard")(leaderboard_command)
