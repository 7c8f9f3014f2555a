"""``robust_above_clean``: a robust point must be a correctly classified one, and a fresh clean forward
must agree with the record; an evaluation that says otherwise is broken, not the model."""

from __future__ import annotations

from robench.core.record import Flag
from robench.diagnostics.check import Check
from robench.diagnostics.tools import clean_logits

CODE = "robust_above_clean"


def run(ctx) -> list[Flag]:
    robust = ctx.robust
    evidence = {
        "clean_acc": ctx.result.clean_acc,
        "robust_acc": ctx.accuracy(robust),
        "robust_but_clean_wrong": int((robust & ~ctx.clean_correct).sum()),
        "robust_but_wrong_now": 0,
    }
    if not ctx.randomized:  # a fresh clean forward must agree with the record
        evidence["robust_but_wrong_now"] = int((robust & (clean_logits(ctx).argmax(1) != ctx.y.cpu())).sum())
    problems = []
    if evidence["robust_but_clean_wrong"]:
        problems.append(f"{evidence['robust_but_clean_wrong']} points count as robust but not clean-correct")
    if evidence["robust_but_wrong_now"]:
        problems.append(
            f"{evidence['robust_but_wrong_now']} robust points are misclassified on a fresh forward"
        )
    if not problems:
        return []
    message = "The evaluation is inconsistent: " + "; ".join(problems) + ". This is a bug of the evaluation."
    return [CHECK.flag(message, evidence)]


CHECK = Check(
    code=CODE,
    severity="error",
    meaning="The record is inconsistent: a point counts as robust although it is misclassified on clean "
    "input, or a fresh clean forward disagrees with the record. This is a bug of the evaluation (or a "
    "model whose clean predictions change), not a property of the model.",
    action="Evaluate again; if the flag persists, report it with the results file.",
    run=run,
    bounds=("robust_acc",),
)
