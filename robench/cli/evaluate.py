"""``robench evaluate``: run an attack suite on a model and write the results JSON."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from robench.cli.options import param, settings_command
from robench.core.record import EvaluationResult
from robench.engine.state import FileState
from robench.pipeline.request import EvaluationRequest


def print_result(result: EvaluationResult) -> None:
    """The per-stage table, then clean/robust accuracy, verdict and flags."""
    from rich.console import Console
    from rich.table import Table

    from robench.diagnostics.evidence import format_evidence
    from robench.diagnostics.verdict import model_findings
    from robench.leaderboard.table import ladder_rows

    console = Console()
    from rich.markup import escape

    from robench.core.escape import terminal

    title = f"{result.model} · {result.dataset} · {result.threat} eps={result.eps:.6g} · n={result.n}"
    table = Table(title=escape(terminal(title)))  # the model's name comes from a file
    for column in ("stage", "robust acc", "attacked", "broken", "forward", "backward", "seconds"):
        table.add_column(column, justify="left" if column == "stage" else "right")
    rows = [(r.stage, r.robust_acc, r.attacked, r.broken, r.rejected, r.cost) for r in ladder_rows(result)]
    for name, acc, attacked, broken, rejected, cost in rows:
        shown = f"{broken}" + (f" ({rejected} rejected)" if rejected else "")
        table.add_row(
            escape(terminal(name)),
            f"{100 * acc:.2f}%",
            str(attacked),
            shown,
            f"{cost.forward:,}",
            f"{cost.backward:,}",
            f"{cost.seconds:.2f}",
        )
    console.print(table)
    console.print(
        f"clean accuracy [bold]{100 * result.clean_acc:.2f}%[/]  ·  robust accuracy "
        f"[bold]{100 * result.robust_acc:.2f}%[/] ({result.mode}, worst case per point)  ·  "
        f"verdict [bold]{result.verdict}[/]"
    )
    findings = model_findings(result.flags)
    if findings:
        console.print(
            f"model finding: {', '.join(findings)}: the model itself is broken (see the flag); the robust "
            f"accuracy {100 * result.robust_acc:.2f}% stands",
            markup=False,
        )
    print_bracket(console, result)
    for flag in result.flags:
        console.print(f"  [{flag.severity}] {flag.code}: {flag.message}", markup=False)
        console.print(f"      evidence: {format_evidence(flag.evidence)}", markup=False)


def print_bracket(console, result: EvaluationResult) -> None:
    """The certified lower bounds beside the attacks' upper bound, when the evaluation certified."""
    from robench.core.record import best_certificate

    if result.certificates_note:
        console.print(f"certify: {result.certificates_note}", markup=False, soft_wrap=True)
    best = best_certificate(result.certificates, result.eps)
    if best is None:
        return
    shown = ", ".join(f"{c.label} {100 * c.certified_acc:.2f}%" for c in result.certificates)
    console.print(
        f"certified accuracy (lower bound) {shown}  ·  robust accuracy is in "
        f"[{100 * best.certified_acc:.2f}%, {100 * result.robust_acc:.2f}%]",
        markup=False,
    )
    for cert in result.certificates:
        if cert.note:
            console.print(f"  note ({cert.requested_method}): {cert.note}", markup=False, soft_wrap=True)


def evaluate(request: EvaluationRequest, *, out: Path | None, resume: bool) -> None:
    """Evaluate a model's robustness with a suite of escalating attacks (cascade)."""
    from robench.core.outputs import check_output_file
    from robench.core.threads import use_threads
    from robench.distributed import rank_state_path
    from robench.pipeline.evaluate import run_request

    if out is not None:  # before the evaluation: a record is never lost at the end
        check_output_file(out, "--out")
    use_threads(request.run.threads)
    state = None
    if out is not None:
        state = FileState(rank_state_path(out.with_name(out.name + ".state")))  # per rank under torchrun
        if not resume:
            state.clear()
    result = run_request(
        request,
        state=state,
        keep=None if out is None else lambda record: _write(record, out),
        announce=lambda target: typer.echo(f"model: {target.loaded.describe()}", err=True),
    )
    if result is None:  # another rank of a torchrun launch: rank 0 prints and writes
        return
    print_result(result)
    if out is not None:
        typer.echo(f"results written to {out}")


def _write(result: EvaluationResult, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    result.to_json(out)


EXTRA = [
    param("out", Annotated[Path | None, typer.Option(help="results JSON to write")], None),
    param("resume", Annotated[bool, typer.Option(help="resume from OUT.state after an interruption")], True),
]


def register(app: typer.Typer) -> None:
    app.command("evaluate")(settings_command(evaluate, EvaluationRequest, EXTRA))
