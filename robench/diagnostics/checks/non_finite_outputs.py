"""``non_finite_outputs``: NaN or inf logits on clean inputs (such points count as misclassified)."""

from __future__ import annotations

import torch

from robench.diagnostics.tools import clean_logits
from robench.engine.record import Flag

CODE = "non_finite_outputs"


def run(ctx) -> list[Flag]:
    bad = ~torch.isfinite(clean_logits(ctx)).all(1)
    count = int(bad.sum())
    if count == 0:
        return []
    message = (
        f"The model returns NaN/inf outputs on {count} of {ctx.n} clean inputs; accuracy over them means "
        "nothing. Fix the model's numerics (overflow, division, log of zero) before evaluating it."
    )
    evidence = {"points": count, "n": ctx.n, "indices": ctx.indices[bad][:10].tolist()}
    return [Flag(CODE, "error", message, evidence)]
