"""``probabilities_output``: the model returns probabilities (rows in [0,1] summing to 1), not logits.

Cross-entropy and DLR computed on probabilities saturate, so the suite's attacks are weakened. The
check re-attacks a sample of the survivors through log(probabilities), which behave like logits, and
folds the points it breaks into the worst case.
"""

from __future__ import annotations

import torch

from robench.attacks import build_attack
from robench.core.record import Flag
from robench.diagnostics.check import Check
from robench.diagnostics.straight_through import LogOutput
from robench.diagnostics.tools import attack_breaks, clean_logits

CODE = "probabilities_output"
MIN_FRACTION = 0.99  # fraction of rows that must look like a probability vector
SUM_TOLERANCE = 1e-3
STEPS = 50


def run(ctx) -> list[Flag]:
    logits = clean_logits(ctx)
    finite = torch.isfinite(logits).all(1)
    if logits.numel() == 0 or not finite.any():
        return []
    rows = logits[finite]
    in_range = (rows >= -1e-6).all(1) & (rows <= 1 + 1e-6).all(1)
    sums_to_one = (rows.sum(1) - 1).abs() <= SUM_TOLERANCE
    fraction = (in_range & sums_to_one).float().mean().item()
    if fraction < MIN_FRACTION:
        return []
    positions = ctx.sample(ctx.robust, CODE)
    attack = build_attack(f"pgd-{STEPS}", ctx.threat)
    breaks = attack_breaks(ctx, attack, positions, ctx.point_seeds(positions, CODE), LogOutput(ctx.model))
    broken = ctx.mark_broken(positions, breaks, f"pgd-{STEPS} on log-probabilities")
    message = (
        f"The model's outputs look like probabilities ({fraction:.0%} of rows lie in [0,1] and sum to 1), "
        f"not logits: the suite's losses saturate on them. Attacking log(probabilities) broke {broken} "
        f"more of {positions.numel()} survivors. Return logits (drop the final softmax) and evaluate again."
    )
    evidence = {"probability_rows": fraction, "attacked": int(positions.numel()), "broken_via_log": broken}
    return [CHECK.flag(message, evidence)]


CHECK = Check(
    code=CODE,
    severity="error",
    meaning="The model outputs probabilities (softmax) rather than logits: cross-entropy and margin losses "
    "saturate, so gradient attacks look weaker than they are. robench re-attacked survivors through "
    "log(probabilities) and counted what that broke.",
    action="Remove the final softmax so that the model returns logits, then evaluate again.",
    run=run,
)
