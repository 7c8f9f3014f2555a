"""``attack_failures``: an attack whose output failed verification, or that crashed on some points, did
not really attack them. Those points stay counted as robust (never as broken), so the robust accuracy
may be too high: the evaluation cannot vouch for it."""

from __future__ import annotations

from robench.core.record import Flag
from robench.diagnostics.check import Check

CODE = "attack_failures"


def run(ctx) -> list[Flag]:
    problems = ctx.result.problems
    rejected, errors = problems.rejected, problems.attack_errors
    if not rejected and not errors:
        return []
    rejected_points = sorted({r.index for r in rejected})
    error_points = sorted({i for e in errors for i in e.indices})
    stages = sorted({r.stage for r in rejected} | {e.stage for e in errors})
    evidence = {
        "rejected_outputs": len(rejected),
        "rejected_points": len(rejected_points),
        "attack_error_points": len(error_points),
        "stages": stages,
        "example_reasons": sorted({r.reason for r in rejected})[:3],
        "example_errors": sorted({e.error for e in errors})[:3],
    }
    parts = []
    if rejected:
        parts.append(f"{len(rejected)} outputs on {len(rejected_points)} points failed verification")
    if errors:
        parts.append(f"attacks crashed on {len(error_points)} points")
    message = (
        f"Attacks did not complete ({'; '.join(parts)}; stages: {', '.join(stages)}): those points were "
        "counted as robust without a valid attack, so the robust accuracy may be too high. Fix the model or "
        "the attack (see the evidence) and evaluate again."
    )
    return [CHECK.flag(message, evidence)]


CHECK = Check(
    code=CODE,
    severity="error",
    meaning="Some attacks did not really attack some points: their outputs failed verification (outside "
    "the eps ball or [0, 1], non-finite, wrong shape) or the attack crashed on points with unusable "
    "gradients. Those points were counted as robust without a valid attack, so the robust accuracy may "
    "be too high.",
    action="Fix the model's forward or the attack named in the evidence, then evaluate again.",
    run=run,
)
