"""``robench gate``: fail CI when a model's clean or robust accuracy falls below a threshold.

Exit codes: 0 every criterion passed, 1 a threshold or the reliability requirement was not met,
2 a usage or input error (RobenchError, or a bad option).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from robench.cli.options import param, settings_command
from robench.pipeline.gate import GATE_SUITE, GateRequest


def gate(request: GateRequest, *, json_out: bool, junit: Path | None) -> None:
    """Check a model's clean/robust accuracy against thresholds; exit 1 when one is not met."""
    from robench.core.outputs import check_output_file
    from robench.core.threads import use_threads
    from robench.distributed import refuse_under_torchrun
    from robench.gate.output import format_json, format_summary, write_junit
    from robench.pipeline.gate import run_gate

    refuse_under_torchrun("gate")
    if junit is not None:  # before the evaluation
        check_output_file(junit, "--junit")
    use_threads(request.evaluation.run.threads)
    report, seconds = run_gate(request)
    if junit is not None:
        write_junit(report, junit, seconds)
    summary = format_summary(report)
    if json_out:
        print(summary, file=sys.stderr)
        print(format_json(report))
    else:
        print(summary)
    raise typer.Exit(report.exit_code)


EXTRA = [
    param(
        "json_out", Annotated[bool, typer.Option("--json", help="print the JSON summary on stdout")], False
    ),
    param(
        "junit",
        Annotated[Path | None, typer.Option(help="write JUnit XML (one testcase per criterion)")],
        None,
    ),
]


def register(app: typer.Typer) -> None:
    command = settings_command(gate, GateRequest, EXTRA, defaults={"suite": GATE_SUITE})
    app.command("gate")(command)
