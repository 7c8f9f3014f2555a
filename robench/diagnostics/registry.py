"""The registry of checks, in the order they run (lazy entries: nothing is imported until used).

A check is ``run(ctx: DiagnosticContext) -> list[Flag]``; a check that breaks extra points records them
with ``ctx.mark_broken`` after verification. Cheap sanity checks run first, then gradient checks and
BPDA, then the extra attacks that lower the worst case (noise, black-box, more restarts) last.
"""

from __future__ import annotations

from robench.registry import Registry

#: the default run order
DEFAULT_CHECKS = (
    "robust_above_clean",
    "non_finite_outputs",
    "probabilities_output",
    "randomized_model",
    "zero_gradients",
    "catastrophic_overfitting",
    "unbounded_attack_fails",
    "non_monotonic_eps",
    "noise_stronger",
    "black_box_stronger",
    "incomplete_optimization",
)

CHECKS: Registry = Registry("diagnostic check", allow_user_code=True)
for _name in DEFAULT_CHECKS:
    CHECKS.add(_name, f"robench.diagnostics.checks.{_name}:run")
