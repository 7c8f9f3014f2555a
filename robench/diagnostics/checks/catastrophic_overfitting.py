"""``catastrophic_overfitting``: single-step accuracy far above multi-step accuracy on the same points.

FGSM and PGD-20 (the suite's own attacks) each attack every clean-correct point (up to ``MAX_POINTS``)
on their own. When the suite itself opens with fgsm -> pgd-20 (a deterministic cascade, with any shorter
PGD rungs between: ``fast``, ``standard``) those stages are read instead of attacking again: FGSM's
accuracy is its stage's, PGD-20's the accuracy after the pgd-20 stage (never above PGD-20 alone, so a gap
only grows: a flag is never lost). The
default threshold sits between the two digits references at eps 0.3: an FGSM-trained CNN that overfit
shows FGSM 52 % vs PGD-20 2 % (gap 50 points), a PGD-trained one 47 % vs 31 % (gap 16 points, ratio
0.66). Linf only: a single L2 step is far weaker than L2 PGD even on honest models (a PGD-trained digits
CNN at L2 eps 1 shows 62 % vs 15 %), so the gap says nothing there.

The gap is decided on the points it was measured on: exact McNemar on the paired per-point outcomes
(robust to FGSM and broken by PGD-20, or the reverse; ``robench.core.stats``); a gap beyond the
thresholds that chance could explain (8 points: FGSM 50 % vs PGD-20 25 % is two points) is a warning that
there are too few points to decide. A model finding: the model is broken, the multi-step number stands.
"""

from __future__ import annotations

import torch

from robench.attacks import build_attack
from robench.core.record import Flag
from robench.core.stats import mcnemar_p
from robench.diagnostics.check import Check
from robench.diagnostics.tools import attack_breaks, gradients, single_then_multi_stages

CODE = "catastrophic_overfitting"
MIN_GAP = 0.25  # FGSM accuracy minus PGD-20 accuracy, as fractions of all points
MAX_RATIO = 0.5  # and PGD-20 accuracy at most half of FGSM accuracy
MAX_POINTS = 1000


def run(ctx) -> list[Flag]:
    if ctx.randomized or ctx.threat.norm != "linf":
        return []  # one-draw numbers of a random model mean little; L2: see the module docstring
    clean = int(ctx.clean_correct.sum())
    if clean == 0 or gradients(ctx, "ce").unusable.sum() >= 0.5 * clean:
        return []  # with masked gradients neither attack means anything; zero_gradients says so
    fgsm_broken, pgd_broken = _outcomes(ctx)
    points = int(fgsm_broken.numel())
    fgsm_acc, pgd_acc = (accuracy(ctx, broken) for broken in (fgsm_broken, pgd_broken))
    gap = fgsm_acc - pgd_acc
    if gap < MIN_GAP or pgd_acc > MAX_RATIO * fgsm_acc:
        return []
    only_pgd, only_fgsm = int((pgd_broken & ~fgsm_broken).sum()), int((fgsm_broken & ~pgd_broken).sum())
    message = (
        f"FGSM leaves {fgsm_acc:.1%} robust but PGD-20 only {pgd_acc:.1%} on the same {points} points: the "
        "model has catastrophically overfit to single-step attacks (typical of FGSM training without random "
        "start). Its loss surface is distorted near the data, so single-step numbers are meaningless and "
        "the model is not robust (the multi-step worst case stands): retrain with FGSM-RS/N-FGSM, GradAlign "
        "or PGD."
    )
    evidence = {"fgsm_acc": fgsm_acc, "pgd20_acc": pgd_acc, "gap": gap, "points": points, "min_gap": MIN_GAP}
    evidence |= {"broken_by_pgd20_only": only_pgd, "broken_by_fgsm_only": only_fgsm}
    return [CHECK.decide(message, evidence, mcnemar_p(only_pgd, only_fgsm))]


def accuracy(ctx, broken: torch.Tensor) -> float:
    """The accuracy the measured points show, as a fraction of all n points (a sample of the
    clean-correct points stands for all of them)."""
    return int((~broken).sum()) * int(ctx.clean_correct.sum()) / (ctx.n * broken.numel())


def _outcomes(ctx) -> tuple[torch.Tensor, torch.Tensor]:
    """Per measured clean-correct point: broken by FGSM, broken by PGD-20."""
    opening = single_then_multi_stages(ctx)
    if opening:  # the suite's own cascade on every clean-correct point
        correct = ctx.clean_correct.nonzero().flatten().tolist()
        by = [ctx.result.samples[p].broken_by for p in correct]
        fgsm = torch.tensor([b == opening[0] for b in by], dtype=torch.bool)
        return fgsm, torch.tensor([b in opening for b in by], dtype=torch.bool)
    positions = ctx.sample(ctx.clean_correct, CODE, limit=MAX_POINTS)
    seeds = ctx.point_seeds(positions, CODE)
    settings = ctx.attack_settings
    fgsm, pgd = (
        attack_breaks(ctx, build_attack(spec, ctx.threat, **settings), positions, seeds)
        for spec in ("fgsm", "pgd-20")
    )
    return fgsm, pgd


CHECK = Check(
    code=CODE,
    severity="error",
    meaning="Single-step attacks (FGSM) barely hurt the model while multi-step PGD breaks it on the same "
    "points: the model learned to defeat the one attack it was trained against, not to be robust "
    "(typical of FGSM training without random start, Wong et al. 2020). Single-step numbers are "
    "meaningless; the multi-step worst case is what counts.",
    action="Trust only the multi-step numbers. Retrain with PGD-AT or TRADES, or with FGSM-RS / N-FGSM and "
    "robench train's catastrophic-overfitting guard (--early-stop keeps the last good epoch).",
    run=run,
    bounds=("fgsm_acc", "pgd20_acc"),
    finding="model",
)
