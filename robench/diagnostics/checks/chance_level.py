"""``chance_level``: the clean accuracy is at or below chance (one over the number of classes).

A trained classifier that guesses on clean inputs is not being shown the data it was trained on: the
labels (their order or their set), the normalisation or the channel layout do not match it. Its robust
accuracy then measures that mismatch, not robustness. From the record alone (no model call): an exact
binomial test (``robench.core.stats``) asks whether the correct points could come from guessing; an
accuracy above chance that guessing could still explain is a warning that there are too few points.
"""

from __future__ import annotations

from robench.core.record import Flag
from robench.core.stats import SIGNIFICANCE, binomial_sf
from robench.diagnostics.check import Check

CODE = "chance_level"


def run(ctx) -> list[Flag]:
    points, correct, classes = ctx.n, int(ctx.clean_correct.sum()), int(ctx.data.num_classes)
    if points == 0 or classes < 2:
        return []
    chance = 1 / classes
    p_value = binomial_sf(correct, points, chance)  # the chance of this many correct guesses
    if p_value < SIGNIFICANCE:
        return []
    accuracy = correct / points
    evidence = {"clean_acc": accuracy, "chance": chance, "classes": classes, "points": points}
    evidence |= {"p_value": round(p_value, 6), "level": SIGNIFICANCE}
    if accuracy <= chance:
        message = (
            f"The clean accuracy is {accuracy:.1%} ({correct} of {points} points), at or below chance "
            f"({chance:.1%} for {classes} classes): the labels, the normalisation or the channel layout do "
            "not match the model, so its robust accuracy means nothing. Check the dataset's labels and "
            "class order, the card's mean/std and the image layout."
        )
        return [CHECK.flag(message, evidence)]
    message = (
        f"Too few points to decide (p = {p_value:.2g}, not below {SIGNIFICANCE:g}; evaluate more points): "
        f"the clean accuracy {accuracy:.1%} ({correct} of {points}) is not shown to be above chance "
        f"({chance:.1%} for {classes} classes)."
    )
    return [Flag(CODE, "warning", message, evidence, CHECK.finding)]


CHECK = Check(
    code=CODE,
    severity="error",
    meaning="The clean accuracy is at or below chance (one over the number of classes): the evaluation does "
    "not show the model the data it was trained on (labels or class order, normalisation, channel "
    "layout), so its robust accuracy measures that mismatch, not robustness.",
    action="Check the dataset's labels and class order, the card's mean/std and the image layout; then "
    "evaluate again.",
    run=run,
)
