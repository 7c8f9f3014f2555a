"""Diagnostics: does the evaluation deserve trust? One small module per check, a computed verdict.

Before the suite the engine calls ``probe_randomness(model, x)`` (a randomised model needs EOT); after
it::

    ctx = DiagnosticContext(model=counting_model, data=points, threat=threat, result=result,
                            device=device, seed=seed, batch_size=batch_size, block_size=block_size,
                            randomness=probe, eot=used_eot)
    report = run_diagnostics(ctx)  # folds extra breaks, the cost row, flags and verdict into result
"""

from robench.core.randomness import probe_randomness
from robench.diagnostics.context import (
    SAMPLE_SIZE,
    CheckCost,
    DiagnosticContext,
    DiagnosticsReport,
    RandomnessProbe,
)
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
