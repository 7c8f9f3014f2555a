"""``robench gate``: fail CI when a model's clean or robust accuracy falls below a threshold.

Exit codes: 0 every criterion passed, 1 a threshold or the reliability requirement was not met,
2 a usage or input error (RobenchError, or a bad option).
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer


def gate(
    model: str | None = typer.Option(
        None, "--model", "-m", help="Model card id or name (e.g. digits/linf/pgd)."
    ),
    checkpoint: Path | None = typer.Option(None, "--checkpoint", help="Checkpoint file (with --arch)."),
    arch: str | None = typer.Option(None, "--arch", help="Architecture for --checkpoint."),
    arch_kwargs: str | None = typer.Option(
        None, "--arch-kwargs", help='Architecture keyword arguments as JSON, e.g. {"width": 16}.'
    ),
    num_classes: int | None = typer.Option(None, "--num-classes", help="Classes, for --checkpoint."),
    mean: str | None = typer.Option(
        None, "--mean", help="Normalisation mean for --checkpoint, e.g. 0.5,0.5,0.5."
    ),
    std: str | None = typer.Option(None, "--std", help="Normalisation std for --checkpoint."),
    dataset: str | None = typer.Option(None, "--dataset", "-d", help="Dataset (default: the card's)."),
    split: str = typer.Option("test", "--split", help="Dataset split."),
    data_root: str | None = typer.Option(None, "--data-root", help="Local dataset root ($ROBENCH_DATA)."),
    threat: str | None = typer.Option(None, "--threat", help="linf or l2 (default: the card's)."),
    eps: str | None = typer.Option(None, "--eps", help="Budget, e.g. 0.3 or 8/255 (default: the card's)."),
    n: int | None = typer.Option(None, "--n", help="Number of test points (default: all)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the subset and the attacks."),
    suite: str = typer.Option("quick", "--suite", help="Attack suite name or file."),
    device: str = typer.Option("cpu", "--device", help="cpu or cuda."),
    batch_size: int | None = typer.Option(None, "--batch-size", help="Batch size (default: automatic)."),
    min_clean: float | None = typer.Option(None, "--min-clean", help="Lowest clean accuracy allowed (0-1)."),
    min_robust: float | None = typer.Option(
        None, "--min-robust", help="Lowest robust accuracy allowed: worst case over the suite (0-1)."
    ),
    max_drop: float | None = typer.Option(
        None, "--max-drop", help="Largest robust-accuracy drop allowed below --baseline (0-1)."
    ),
    baseline: str | None = typer.Option(
        None, "--baseline", help="Leaderboard entry (file or <dataset>/<threat>/<name>) or results JSON."
    ),
    require_reliable: bool = typer.Option(
        False, "--require-reliable", help="Fail on any error-severity diagnostic flag."
    ),
    confidence: str = typer.Option(
        "point",
        "--confidence",
        help="Compare thresholds with the point estimate, the interval's upper bound (fail only when "
        "clearly below) or its lower bound (pass only when clearly above).",
    ),
    confidence_level: float = typer.Option(0.95, "--confidence-level", help="Level of the intervals."),
    interval: str = typer.Option("clopper-pearson", "--interval", help="clopper-pearson or wilson."),
    reuse: bool = typer.Option(True, "--reuse/--no-reuse", help="Reuse a stored result of the same run."),
    diagnostics: bool = typer.Option(
        True, "--diagnostics/--no-diagnostics", help="Run the reliability checks after the suite."
    ),
    store: Path | None = typer.Option(None, "--store", help="Results store (default: $ROBENCH_STORE)."),
    json_out: bool = typer.Option(False, "--json", help="Print the JSON summary on stdout."),
    junit: Path | None = typer.Option(None, "--junit", help="Write JUnit XML (one testcase per criterion)."),
) -> None:
    """Check a model's clean/robust accuracy against thresholds; exit 1 when one is not met."""
    from robench.distributed import refuse_under_torchrun

    refuse_under_torchrun("gate")
    from robench.cli.options import parse_arch_kwargs, parse_floats
    from robench.gate.output import format_json, format_summary, write_junit
    from robench.gate.run import check_model

    report, seconds = check_model(
        model,
        checkpoint=checkpoint,
        arch=arch,
        arch_kwargs=parse_arch_kwargs(arch_kwargs),
        num_classes=num_classes,
        mean=parse_floats(mean, "--mean"),
        std=parse_floats(std, "--std"),
        min_clean=min_clean,
        min_robust=min_robust,
        max_drop=max_drop,
        require_reliable=require_reliable,
        confidence=confidence,
        confidence_level=confidence_level,
        interval=interval,
        dataset=dataset,
        threat=threat,
        eps=eps,
        n=n,
        seed=seed,
        suite=suite,
        device=device,
        batch_size=batch_size,
        split=split,
        data_root=data_root,
        baseline=baseline,
        reuse=reuse,
        store=store,
        diagnostics=diagnostics,
    )
    if junit is not None:
        write_junit(report, junit, seconds)
    summary = format_summary(report)
    if json_out:
        print(summary, file=sys.stderr)
        print(format_json(report))
    else:
        print(summary)
    raise typer.Exit(report.exit_code)


def register(app: typer.Typer) -> None:
    app.command("gate")(gate)
