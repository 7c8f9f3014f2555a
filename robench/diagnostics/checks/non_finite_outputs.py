"""``non_finite_outputs``: NaN or inf logits, on clean inputs, on the suite's adversarial inputs (as the
engine recorded them) or on one uniform-noise draw in the eps ball of a sample of points.

The engine counts a point whose logits are not finite as misclassified (never as robust), so the
number is not flattering; but accuracy over such outputs measures the model's numerics, not its
robustness.
"""

from __future__ import annotations

import torch

from robench.core.record import Flag
from robench.core.seeding import point_noise
from robench.diagnostics.check import Check
from robench.diagnostics.tools import clean_logits, forward_batch, predict, seeded_call

CODE = "non_finite_outputs"


def run(ctx) -> list[Flag]:
    clean = int((~torch.isfinite(clean_logits(ctx)).all(1)).sum())
    adversarial = len(ctx.result.problems.nonfinite_logits)
    positions = ctx.sample(ctx.clean_correct, CODE)
    noise = point_noise(ctx.point_seeds(positions, CODE), tuple(ctx.x.shape[1:]), salt=0)
    x_noisy = ctx.threat.random_start(ctx.x[positions.to(ctx.x.device)], noise.to(ctx.x.device, ctx.x.dtype))
    noisy = 0
    if positions.numel():  # no clean-correct point: nothing to perturb
        with seeded_call(ctx):
            logits = predict(ctx.model, x_noisy, forward_batch(ctx))
        noisy = int((~torch.isfinite(logits).all(1)).sum())
    if clean + adversarial + noisy == 0:
        return []
    message = (
        f"The model returns NaN/inf outputs (clean inputs: {clean} of {ctx.n}; the suite's adversarial "
        f"inputs: {adversarial}; random points of the eps ball: {noisy} of {positions.numel()}). Such "
        "points count as broken, so accuracy measures the model's numerics, not its robustness: fix the "
        "overflow (division, log of zero, exp) and evaluate again."
    )
    evidence = {
        "clean": clean,
        "adversarial": adversarial,
        "noise": noisy,
        "noise_points": int(positions.numel()),
    }
    return [CHECK.flag(message, evidence)]


CHECK = Check(
    code=CODE,
    severity="error",
    meaning="The model returns NaN or infinite logits on clean inputs, on adversarial inputs or on random "
    "points of the eps ball. Such points count as broken, so accuracy there measures the model's "
    "numerics, not its robustness.",
    action="Fix the overflow (division, log of zero, exp) or the checkpoint's normalisation, then "
    "evaluate again.",
    run=run,
)
