"""``zero_gradients``: points whose input gradient is missing (the forward breaks the graph), non-finite
or exactly zero (rounding/quantisation, or a saturated softmax such as logits x 1e4).

Gradient attacks cannot move such points, so a point that survived the suite with an unusable gradient
proves nothing. The check then runs what still works on a sample of them: PGD with the scale-invariant
margin loss through straight-through gradients (generic BPDA, see ``straight_through.py``), and folds
the verified breaks into the worst case. The black-box check later attacks every survivor too.
"""

from __future__ import annotations

import torch

from robench.attacks.cw import margin_pgd
from robench.core.record import Flag
from robench.diagnostics.check import Check
from robench.diagnostics.straight_through import StraightThrough
from robench.diagnostics.tools import attack_breaks, gradient_status, gradients

CODE = "zero_gradients"
MIN_FRACTION = 0.05  # affected clean-correct points that flag even when none of them survived
BPDA_STEPS = 100


def run(ctx) -> list[Flag]:
    ce, margin = gradients(ctx, "ce"), gradients(ctx, "margin")
    unusable = ce.unusable & ctx.clean_correct
    if ctx.unusable_gradients is not None:
        unusable |= ctx.unusable_gradients.cpu().bool() & ctx.clean_correct
    surviving = unusable & ctx.robust
    fraction = int(unusable.sum()) / max(int(ctx.clean_correct.sum()), 1)
    if not surviving.any() and fraction < MIN_FRACTION:
        return []
    evidence = {
        "points": int(unusable.sum()),
        "fraction": fraction,
        "survivors_affected": int(surviving.sum()),
        "missing": int((ce.missing & unusable).sum()),
        "non_finite": int((ce.nonfinite & unusable).sum()),
        "zero": int((ce.zero & unusable).sum()),
        "margin_loss_usable": int((unusable & ~margin.unusable).sum()),
        "indices": ctx.indices[unusable][:10].tolist(),
    }
    evidence.update(_bpda(ctx, surviving))
    causes = []
    if evidence["missing"]:
        causes.append("the forward breaks the gradient graph (detach, no_grad or a step outside torch)")
    if evidence["margin_loss_usable"]:
        causes.append("cross-entropy saturates (huge logits) while the margin loss still has gradients")
    if evidence["zero"] > evidence["margin_loss_usable"]:
        causes.append("gradients are exactly zero (a non-differentiable step such as rounding)")
    bpda = (
        f" Straight-through (BPDA) CW-PGD on {evidence['bpda_attacked']} of them broke "
        f"{evidence['bpda_broken']}."
        if evidence["bpda_attacked"]
        else ""
    )
    message = (
        f"{evidence['points']} points ({fraction:.0%}) have unusable input gradients, "
        f"{evidence['survivors_affected']} of them among the survivors: {'; '.join(causes) or 'non-finite'}."
        f"{bpda} Gradient attacks cannot vouch for this number: fix the forward (return logits, no "
        "detach/rounding) or evaluate with an adaptive attack."
    )
    return [CHECK.flag(message, evidence)]


def _bpda(ctx, surviving: torch.Tensor) -> dict:
    positions = ctx.sample(surviving, f"{CODE}/bpda")
    if positions.numel() == 0:
        return {"bpda_attacked": 0, "bpda_broken": 0, "straight_through_usable": 0}
    wrapped = StraightThrough(ctx.model)
    dev = positions.to(ctx.x.device)
    x, y = ctx.x[dev], ctx.y[dev]
    try:
        usable = ~gradient_status(wrapped, x, y, ctx.batch_size, "margin").unusable
    except RuntimeError:  # the forward leaves torch (e.g. .numpy() on a tensor that now needs grad)
        usable = torch.zeros(positions.numel(), dtype=torch.bool)
    if not usable.any():
        return {"bpda_attacked": 0, "bpda_broken": 0, "straight_through_usable": 0}
    attack = margin_pgd(ctx.threat, BPDA_STEPS)  # cw-K for linf; margin PGD in l2 too
    breaks = attack_breaks(ctx, attack, positions, ctx.point_seeds(positions, f"{CODE}/bpda"), wrapped)
    broken = ctx.mark_broken(positions, breaks, f"bpda-cw-{BPDA_STEPS}")
    return {
        "bpda_attacked": int(positions.numel()),
        "bpda_broken": broken,
        "straight_through_usable": int(usable.sum()),
    }


CHECK = Check(
    code=CODE,
    severity="error",
    meaning="Input gradients are missing, non-finite or exactly zero for many points (a broken graph, "
    "rounding or quantisation, a saturated softmax): gradient attacks cannot move those points, so their "
    "survival proves nothing (gradient masking). robench already attacked them with straight-through "
    "(BPDA) margin PGD and, later, with a black-box attack, and counted what those broke.",
    action="Treat the robust accuracy as an upper bound only. Fix the forward (return logits, no detach or "
    "rounding), or evaluate with an adaptive attack designed for this defence.",
    run=run,
)
