"""Diagnostics: does the evaluation deserve trust? One small module per check, a computed verdict.

The engine calls, after the suite::

    ctx = DiagnosticContext.from_result(result, counting_model, threat, x, y, seeds, device=..., batch_size=...,
                                        randomness=probe, eot=used_eot)
    report = run_diagnostics(ctx)
    report.apply_to(result)   # folds extra breaks into the worst case, adds flags, cost and verdict

and, before the suite, ``probe_randomness(model, x)`` to decide whether the suite needs EOT.
"""

from robench.diagnostics.context import (
    SAMPLE_SIZE,
    CheckCost,
    DiagnosticContext,
    DiagnosticsReport,
    RandomnessProbe,
)
from robench.diagnostics.randomness import probe_randomness
from robench.diagnostics.registry import CHECKS
from robench.diagnostics.runner import run_diagnostics
from robench.diagnostics.verdict import verdict

__all__ = [
    "CHECKS",
    "SAMPLE_SIZE",
    "CheckCost",
    "DiagnosticContext",
    "DiagnosticsReport",
    "RandomnessProbe",
    "probe_randomness",
    "run_diagnostics",
    "verdict",
]
