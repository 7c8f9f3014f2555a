"""``robench certify``: certified accuracy of a model by sound bounds (IBP, CROWN-IBP, CROWN), and
optionally of its randomized-smoothing classifier (``--smoothing SIGMA``), on the points evaluate uses."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from robench.cli.options import param, settings_command
from robench.core.record import CertificationRecord, SmoothedSummary
from robench.pipeline.certify import SMOOTHING_RADII, CertifyRequest

#: evaluate's options that mean nothing without attacks
EXCLUDED = ("suite", "independent", "block_size", "diagnostics", "certify")


def print_certificates(record: CertificationRecord) -> None:
    """One row per bound (certified %, the bound that ran, points bounded, cost), then the notes."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(
        title=f"{record.model} · {record.dataset}/{record.split} · {record.threat} eps={record.eps:.6g} · "
        f"n={record.n} · clean {100 * record.clean_acc:.2f}%"
    )
    for column in ("bound", "ran", "certified acc", "bounded", "seconds", "work/point"):
        table.add_column(column, justify="left" if column in ("bound", "ran") else "right")
    for cert in record.certificates:
        per_point = cert.work / cert.bounded if cert.bounded else 0.0
        table.add_row(
            cert.requested_method,
            cert.method,
            f"{100 * cert.certified_acc:.2f}%",
            str(cert.bounded),
            f"{cert.seconds:.2f}",
            f"{per_point:,.1f} fwd",
        )
    console.print(table)
    console.print(
        "certified acc: points provably robust (a lower bound on the robust accuracy); bounded: points the "
        "bound ran on (the others are misclassified or certified by IBP already); work: bound propagation "
        "per bounded point, in forward passes of one point.",
        soft_wrap=True,
    )
    for cert in record.certificates:
        if cert.note:
            console.print(f"  note ({cert.requested_method}): {cert.note}", markup=False, soft_wrap=True)
    for smoothed in record.smoothed:
        print_smoothed(console, smoothed, record)


def print_smoothed(console, smoothed: SmoothedSummary, record: CertificationRecord) -> None:
    radii = sorted({*SMOOTHING_RADII, *([record.eps] if record.threat == "l2" else [])})
    accuracy = ", ".join(f"r={r:g}: {100 * smoothed.smoothed_certified_acc(r):.1f}%" for r in radii)
    console.print(
        f"smoothed classifier g (randomized smoothing, sigma {smoothed.sigma:g}, {smoothed.samples:,} "
        f"samples, n0 {smoothed.n0}, alpha {smoothed.alpha:g}): its own l2 certificates, not the base "
        f"model's; certified accuracy of g at l2 radius {accuracy}; abstained on {smoothed.abstained} of "
        f"{len(smoothed.labels)}; {smoothed.base_forward:,} base-model forwards, {smoothed.seconds:.1f} s",
        markup=False,
        soft_wrap=True,
    )


def certify(request: CertifyRequest, *, out: Path | None) -> None:
    """Certify a model's robustness with sound bounds (default IBP and CROWN) on evaluate's points."""
    from robench.core.outputs import check_output_file
    from robench.core.threads import use_threads
    from robench.distributed import refuse_under_torchrun
    from robench.pipeline.certify import run_certification

    refuse_under_torchrun("certify")
    if out is not None:  # before the bounds run
        check_output_file(out, "--out")
    use_threads(request.evaluation.run.threads)
    record = run_certification(request)
    print_certificates(record)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        record.to_json(out)
        typer.echo(f"certificates written to {out}")


EXTRA = [param("out", Annotated[Path | None, typer.Option(help="certificates JSON to write")], None)]


def register(app: typer.Typer) -> None:
    app.command("certify")(settings_command(certify, CertifyRequest, EXTRA, exclude=EXCLUDED))
