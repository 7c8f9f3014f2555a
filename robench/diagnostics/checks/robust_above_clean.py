"""``robust_above_clean``: a robust point must be a correctly classified one; an evaluation that says
otherwise (or whose summary disagrees with its per-sample records) is broken, not the model."""

from __future__ import annotations

from robench.diagnostics.tools import clean_logits
from robench.engine.record import Flag

CODE = "robust_above_clean"
TOLERANCE = 1e-9


def run(ctx) -> list[Flag]:
    robust = ctx.robust
    problems, evidence = [], {}
    clean_wrong_robust = robust & ~ctx.clean_correct
    if clean_wrong_robust.any():
        problems.append(f"{int(clean_wrong_robust.sum())} points are counted robust but not clean-correct")
    clean_acc, robust_acc = ctx.result.clean_acc, ctx.result.robust_acc
    evidence.update(clean_acc=clean_acc, robust_acc=robust_acc)
    if robust_acc > clean_acc + TOLERANCE:
        problems.append(f"robust accuracy {robust_acc:.4f} exceeds clean accuracy {clean_acc:.4f}")
    if abs(robust_acc - ctx.accuracy(robust)) > TOLERANCE:
        problems.append(
            f"the robust accuracy disagrees with the per-sample records ({ctx.accuracy(robust):.4f})"
        )
    if ctx.randomness is None or not ctx.randomness.randomized:
        wrong_now = robust & (clean_logits(ctx).argmax(1) != ctx.y.cpu())
        if wrong_now.any():
            problems.append(
                f"{int(wrong_now.sum())} points counted robust are misclassified on a fresh clean forward"
            )
    if not problems:
        return []
    evidence.update(
        robust_points=int(robust.sum()), clean_correct_points=int(ctx.clean_correct.sum()), n=ctx.n
    )
    return [Flag(CODE, "error", "The evaluation is inconsistent: " + "; ".join(problems) + ".", evidence)]
