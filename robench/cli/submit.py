"""``robench submit CHECKPOINT --card CARD`` (or the card's fields as flags): evaluate, store, add entry."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from robench.cli.options import param, settings_command
from robench.pipeline.submit import SubmitRequest


def submit(request: SubmitRequest, *, checkpoint: Path | None) -> None:
    """Evaluate a checkpoint (standard suite + diagnostics), store the result, add its leaderboard entry."""
    from robench.core.outputs import check_output_folder
    from robench.core.threads import use_threads
    from robench.diagnostics.verdict import verdict_text
    from robench.distributed import refuse_under_torchrun
    from robench.engine.evaluation import resolve_device
    from robench.leaderboard.entries import leaderboards_root
    from robench.pipeline.submit import submit as run_submit
    from robench.reports.build import reports_root
    from robench.store import ResultsStore

    refuse_under_torchrun("submit")
    use_threads(request.settings.threads)
    resolve_device(request.settings.device)
    check_output_folder(leaderboards_root(request.settings.leaderboards), "--leaderboards")
    check_output_folder(reports_root(request.settings.reports), "--reports")
    card = request.model_card(checkpoint)
    with ResultsStore(request.settings.store) as results:
        done = run_submit(card, checkpoint, request.settings, store=results)
    result = done.entry.result
    how = "reused the stored result (use --force to re-run)" if done.reused else "evaluated and stored"
    typer.echo(
        f"{card.id}: {how}; clean {100 * result.clean_acc:.1f} %, robust {100 * result.robust_acc:.1f} % "
        f"(worst case, n={result.n}), verdict {verdict_text(result)}"
        + (f" [{', '.join(sorted({f.code for f in result.flags}))}]" if result.flags else "")
    )
    typer.echo(f"entry:       {done.entry_path}")
    typer.echo(f"leaderboard: {done.board.md} (.csv, .html)")
    typer.echo(f"report:      {done.report.md} (.html)")


EXTRA = [
    param(
        "checkpoint",
        Annotated[Path | None, typer.Argument(help="checkpoint (.safetensors or .pt); default: the card's")],
        None,
    )
]


def register(app: typer.Typer) -> None:
    app.command("submit")(settings_command(submit, SubmitRequest, EXTRA))
