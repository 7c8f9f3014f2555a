"""``robust_above_clean``: a robust point must be a correctly classified one; an evaluation that says
otherwise (or whose summary disagrees with its per-sample records) is broken, not the model."""

from __future__ import annotations

from robench.core.record import Flag
from robench.diagnostics.tools import clean_logits

CODE = "robust_above_clean"
TOLERANCE = 1e-9


def run(ctx) -> list[Flag]:
    robust = ctx.robust
    clean_acc, robust_acc = ctx.result.clean_acc, ctx.result.robust_acc
    evidence = {
        "clean_acc": clean_acc,
        "robust_acc": robust_acc,
        "robust_acc_from_samples": ctx.accuracy(robust),
        "robust_but_clean_wrong": int((robust & ~ctx.clean_correct).sum()),
        "robust_but_wrong_now": 0,
    }
    if not ctx.randomized:  # a fresh clean forward must agree with the record
        evidence["robust_but_wrong_now"] = int((robust & (clean_logits(ctx).argmax(1) != ctx.y.cpu())).sum())
    problems = []
    if robust_acc > clean_acc + TOLERANCE:
        problems.append(f"robust accuracy {robust_acc:.4f} exceeds clean accuracy {clean_acc:.4f}")
    if abs(robust_acc - evidence["robust_acc_from_samples"]) > TOLERANCE:
        problems.append(
            f"it disagrees with the per-sample records ({evidence['robust_acc_from_samples']:.4f})"
        )
    if evidence["robust_but_clean_wrong"]:
        problems.append(f"{evidence['robust_but_clean_wrong']} points count as robust but not clean-correct")
    if evidence["robust_but_wrong_now"]:
        problems.append(
            f"{evidence['robust_but_wrong_now']} robust points are misclassified on a fresh forward"
        )
    if not problems:
        return []
    message = "The evaluation is inconsistent: " + "; ".join(problems) + ". This is a bug of the evaluation."
    return [Flag(CODE, "error", message, evidence)]
