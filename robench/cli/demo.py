"""``robench demo``: evaluate the digits zoo, regenerate the digits leaderboard and reports, summarise."""

from __future__ import annotations

import time
from typing import Annotated

import typer

from robench.cli.options import DeviceOption, LeaderboardsOption, ReportsOption, StoreOption


def demo_command(
    force: Annotated[bool, typer.Option(help="re-run evaluations even if the store holds them")] = False,
    device: DeviceOption = "cpu",
    store: StoreOption = None,
    leaderboards: LeaderboardsOption = None,
    reports: ReportsOption = None,
) -> None:
    """Evaluate the shipped digits zoo (standard, PGD, TRADES, FGSM, FGSM-RS) and build its leaderboard."""
    from robench.distributed import refuse_under_torchrun

    refuse_under_torchrun("demo")
    from rich.console import Console

    from robench.engine.evaluate import resolve_device
    from robench.leaderboard.demo import run_demo, summary_table

    start = time.perf_counter()
    demo = run_demo(
        store=store, leaderboards=leaderboards, reports=reports, force=force, device=resolve_device(device)
    )
    console = Console()
    if not console.is_terminal:  # piped or captured: do not squeeze the table into 80 columns
        console = Console(width=150)
    console.print(summary_table(demo))
    console.print(
        "robust % is the worst case per point over every stage; an UNRELIABLE verdict means robench's own "
        "checks caught the evaluation overstating robustness (see the flag in the report).",
        soft_wrap=True,
    )
    board = demo.submissions[0].board
    report_dir = demo.submissions[0].report.md.parent
    typer.echo(f"leaderboard: {board.md}  {board.csv.name}  {board.html.name}  {board.scatter.name}")
    typer.echo(f"reports:     {report_dir}/<model>.md and .html (with plots)")
    typer.echo(f"store:       {demo.store}")
    typer.echo(f"done in {time.perf_counter() - start:.0f} s")


def register(app: typer.Typer) -> None:
    app.command("demo")(demo_command)
