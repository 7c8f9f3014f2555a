"""Diagnostics: does the evaluation deserve trust? One small module per check, a computed verdict.

After the suite the pipeline builds a context and runs every check::

    ctx = DiagnosticContext(model=counting_model, data=points, threat=threat, result=result,
                            device=device, seed=seed, batch_size=batch_size, block_size=block_size,
                            randomness=probe)
    report = run_diagnostics(ctx)  # folds extra breaks, per-check costs, flags and verdict into result

Each check declares its flag (code, severity, meaning, action, accuracy bounds) in its module's
``CHECK``; ``robench.diagnostics.catalog`` renders them for reports, boards and docs.
"""

from robench.diagnostics.check import Check
from robench.diagnostics.context import SAMPLE_SIZE, DiagnosticContext, DiagnosticsReport
from robench.diagnostics.registry import CHECKS
from robench.diagnostics.runner import run_diagnostics
from robench.diagnostics.verdict import verdict

__all__ = [
    "CHECKS",
    "SAMPLE_SIZE",
    "Check",
    "DiagnosticContext",
    "DiagnosticsReport",
    "run_diagnostics",
    "verdict",
]
