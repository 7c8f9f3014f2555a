"""``robench demo``: evaluate a shipped zoo (digits, or ``--dataset fashion-mnist``), regenerate its
leaderboard and reports, summarise."""

from __future__ import annotations

import time
from typing import Annotated

import typer

from robench.cli.options import param, settings_command
from robench.pipeline.demo import DemoResult
from robench.pipeline.submit import SubmitSettings


def summary_table(demo: DemoResult):
    """A rich Table: one row per model, the story in a glance."""
    from rich.table import Table

    from robench.core.record import best_certificate
    from robench.diagnostics.verdict import verdict_text
    from robench.leaderboard.formatting import pct

    first = demo.submissions[0].entry.result
    title = f"{first.dataset} {first.threat} eps {first.eps:g}, n={first.n} test images"
    table = Table(title=f"{title}, suite {first.suite['name']}")
    columns = (
        "model",
        "recipe",
        "clean %",
        "certified %",
        "robust %",
        "FGSM %",
        "PGD-20 %",
        "verdict",
        "flags",
        "result",
    )
    for column in columns:
        table.add_column(column, justify="right" if "%" in column else "left")
    for sub in demo.submissions:
        r = sub.entry.result
        flags = ", ".join(sorted({f.code for f in r.flags if f.severity == "error"})) or "-"
        verdict = "[bold red]UNRELIABLE[/]" if r.verdict == "unreliable" else verdict_text(r)
        certified = best_certificate(r.certificates, r.eps)
        table.add_row(
            sub.entry.name,
            str(sub.entry.card.get("recipe", "")),
            pct(r.clean_acc),
            f"{pct(certified.certified_acc)} ({certified.label})" if certified is not None else pct(None),
            f"[bold]{pct(r.robust_acc)}[/]",
            pct(r.stage_acc("fgsm")),
            pct(r.stage_acc("pgd-20")),
            verdict,
            flags,
            "reused" if sub.reused else "evaluated",
        )
    return table


def demo(settings: SubmitSettings, dataset: str = "digits") -> None:
    """Evaluate a shipped zoo (standard, PGD, TRADES, FGSM, FGSM-RS, IBP) and build its board."""
    from rich.console import Console

    from robench.core.threads import use_threads
    from robench.distributed import refuse_under_torchrun
    from robench.engine.evaluation import resolve_device
    from robench.pipeline.demo import run_demo

    refuse_under_torchrun("demo")
    use_threads(settings.threads)
    resolve_device(settings.device)
    start = time.perf_counter()
    result = run_demo(settings, dataset)
    console = Console()
    if not console.is_terminal:  # piped or captured: do not squeeze the table into 80 columns
        console = Console(width=150)
    console.print(summary_table(result))
    console.print(
        "robust % is the worst case per point over every stage (an upper bound on the true robust accuracy), "
        "certified % a sound lower bound; an UNRELIABLE verdict means robench's own checks caught the "
        "evaluation overstating robustness (see the flag in the report); a model finding says the model "
        "itself is broken (catastrophic overfitting) while its worst-case number stands.",
        soft_wrap=True,
    )
    board = result.submissions[0].board
    report_dir = result.submissions[0].report.md.parent
    typer.echo(f"leaderboard: {board.md}  {board.csv.name}  {board.html.name}  {board.scatter.name}")
    typer.echo(f"reports:     {report_dir}/<model>.md and .html (with plots)")
    typer.echo(f"store:       {result.store}")
    typer.echo(f"done in {time.perf_counter() - start:.0f} s")


DEMO_EXTRA = [
    param(
        "dataset",
        Annotated[str, typer.Option(help="which shipped zoo: digits (embedded) or fashion-mnist")],
        "digits",
    )
]


def register(app: typer.Typer) -> None:
    app.command("demo")(settings_command(demo, SubmitSettings, DEMO_EXTRA, exclude=("seed",)))
