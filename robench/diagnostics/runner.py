"""``run_diagnostics(ctx)``: every check in turn, each with its cost counted at the model; the report
is folded into ``ctx.result`` (worst case, per-check costs, flags, verdict) and returned (iterating it
yields the flags)."""

from __future__ import annotations

from collections.abc import Sequence

from robench.core.record import CheckRun
from robench.diagnostics.context import DiagnosticContext, DiagnosticsReport
from robench.diagnostics.registry import CHECKS, DEFAULT_CHECKS
from robench.progress import progress_bar


def run_diagnostics(ctx: DiagnosticContext, checks: Sequence[str] | None = None) -> DiagnosticsReport:
    names = list(DEFAULT_CHECKS if checks is None else checks)
    runs = []
    modes = [(module, module.training) for module in ctx.model.modules()]  # restored exactly afterwards
    ctx.model.eval()
    try:
        with progress_bar("diagnostics", total=len(names), each=True) as bar:
            for name in names:
                bar.describe(f"diagnostics: {name}")
                runs.append(_run_check(ctx, name))
                bar.advance()
    finally:
        for module, training in modes:
            module.training = training
    report = DiagnosticsReport(flags=list(ctx.flags), checks=runs, broken=dict(ctx.extra_broken))
    report.apply_to(ctx.result)
    return report


def _run_check(ctx: DiagnosticContext, name: str) -> CheckRun:
    check = CHECKS.get(name)
    run = getattr(check, "run", None) or check  # a user check may be a plain run(ctx) function
    before = len(ctx.extra_broken)
    with ctx.model.measure() as cost:
        ctx.flags.extend(run(ctx))
    return CheckRun(name, cost.rounded(), len(ctx.extra_broken) - before)
