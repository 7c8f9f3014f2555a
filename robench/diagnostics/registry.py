"""The registry of checks, in the order they run (lazy entries: nothing is imported until used).

A check module defines ``CHECK = Check(code, severity, meaning, action, run=run, ...)``; ``run(ctx)``
returns flags, and a check that breaks extra points records them with ``ctx.mark_broken`` after
verification. The randomness probe runs first (others depend on it), then the cheap sanity checks,
the gradient checks and BPDA, and last the extra attacks that lower the worst case (noise, black-box,
more restarts). Checks the pipeline raises itself (no ``run``) are registered after them.
"""

from __future__ import annotations

from robench.registry import Registry

#: the default run order
DEFAULT_CHECKS = (
    "randomized_model",
    "chance_level",
    "robust_above_clean",
    "attack_failures",
    "non_finite_outputs",
    "probabilities_output",
    "zero_gradients",
    "gradient_inconsistent",
    "catastrophic_overfitting",
    "unbounded_attack_fails",
    "non_monotonic_eps",
    "noise_stronger",
    "black_box_stronger",
    "incomplete_optimization",
)
#: flags the pipeline raises from what it ran around the checks
PIPELINE_CHECKS: tuple[str, ...] = ("certified_but_broken",)

CHECKS: Registry = Registry("diagnostic check", allow_user_code=True)
for _name in DEFAULT_CHECKS + PIPELINE_CHECKS:
    CHECKS.add(_name, f"robench.diagnostics.checks.{_name}:CHECK")
