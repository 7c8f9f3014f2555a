"""``run_diagnostics(ctx)``: every check in turn, each with its cost counted at the model; the report
is folded into ``ctx.result`` (worst case, cost row, flags, verdict) and returned (iterating it
yields the flags)."""

from __future__ import annotations

import time
from collections.abc import Sequence

from robench.diagnostics.context import CheckCost, DiagnosticContext, DiagnosticsReport
from robench.diagnostics.registry import CHECKS, DEFAULT_CHECKS
from robench.progress import progress_bar


def run_diagnostics(ctx: DiagnosticContext, checks: Sequence[str] | None = None) -> DiagnosticsReport:
    names = list(DEFAULT_CHECKS if checks is None else checks)
    flags, costs = ctx.flags, []
    modes = [(module, module.training) for module in ctx.model.modules()]  # restored exactly afterwards
    ctx.model.eval()
    try:
        with progress_bar("diagnostics", total=len(names)) as bar:
            for name in names:
                bar.describe(f"diagnostics: {name}")
                check = CHECKS.get(name)
                start, clock = ctx.model.count(), time.perf_counter()
                before = len(ctx.extra_broken)
                flags.extend(check(ctx))
                used = ctx.model.count() - start
                costs.append(
                    CheckCost(
                        name,
                        used.forward,
                        used.backward,
                        time.perf_counter() - clock,
                        len(ctx.extra_broken) - before,
                    )
                )
                bar.advance()
    finally:
        for module, training in modes:
            module.training = training
    report = DiagnosticsReport(flags=list(flags), costs=costs, broken=dict(ctx.extra_broken))
    report.apply_to(ctx.result)
    return report
