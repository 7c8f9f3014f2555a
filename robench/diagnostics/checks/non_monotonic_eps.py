"""``non_monotonic_eps``: robust accuracy must not rise as eps grows. PGD-20 (random start) over
eps/4, eps/2, eps, 2·eps, 4·eps (Linf capped at 1) on a bounded sample of clean-correct points. At eps
itself a suite that opens with fgsm -> pgd-20 (``tools.single_then_multi_stages``) has already attacked
them: its results are read."""

from __future__ import annotations

import torch

from robench.attacks import build_attack
from robench.core.record import Flag
from robench.diagnostics.check import Check
from robench.diagnostics.tools import attack_breaks, single_then_multi_stages
from robench.threat import ThreatModel

CODE = "non_monotonic_eps"
FACTORS = (0.25, 0.5, 1.0, 2.0, 4.0)
MAX_RISE = 0.03  # a rise of more than 3 % of the sample (and of more than 2 points) flags
STEPS = 20


def run(ctx) -> list[Flag]:
    if ctx.randomized:
        return []  # comparisons of one-draw numbers of a random model; randomized_model flags it
    positions = ctx.sample(ctx.clean_correct, CODE)
    if positions.numel() == 0:
        return []
    seeds = ctx.point_seeds(positions, CODE)
    sweep = sorted(
        {min(ctx.threat.eps * f, 1.0) if ctx.threat.norm == "linf" else ctx.threat.eps * f for f in FACTORS}
    )
    settings = ctx.attack_settings
    accuracies, opening = [], single_then_multi_stages(ctx)
    for eps in sweep:
        threat = ThreatModel(ctx.threat.norm, eps)
        if eps == ctx.threat.eps and opening:
            broken = torch.tensor([ctx.broken_by[p] in opening for p in positions.tolist()])
        else:
            broken = attack_breaks(ctx, build_attack(f"pgd-{STEPS}", threat, **settings), positions, seeds)
        accuracies.append(1.0 - broken.float().mean().item())
    allowed = allowed_rise(positions.numel())
    if not rising_steps(sweep, accuracies, allowed):
        return []
    table = ", ".join(f"{eps:.4g}: {acc:.0%}" for eps, acc in zip(sweep, accuracies, strict=True))
    message = (
        f"Robust accuracy rises with eps (PGD-{STEPS} on {positions.numel()} points; {table}): a larger "
        "budget cannot make a model more robust, so the attack is failing (gradient masking or bad "
        "step sizes)."
    )
    evidence = {
        "eps": sweep,
        "robust_acc": accuracies,
        "points": int(positions.numel()),
        "allowed_rise": allowed,
    }
    return [CHECK.flag(message, evidence)]


def allowed_rise(points: int) -> float:
    return max(MAX_RISE, 2 / max(points, 1))


def rising_steps(sweep: list[float], accuracies: list[float], allowed: float) -> list[tuple[float, float]]:
    """The (eps, next eps) pairs over which accuracy rose by more than ``allowed``."""
    pairs = zip(sweep, sweep[1:], accuracies, accuracies[1:], strict=False)
    return [(low, high) for low, high, before, after in pairs if after > before + allowed]


CHECK = Check(
    code=CODE,
    severity="error",
    meaning="Robust accuracy rises as eps grows on a sample of points; a larger budget can never make a "
    "model more robust, so the attack is failing (gradient masking or bad step sizes).",
    action="Treat the numbers as overestimates; inspect the model's gradients and the attacks' step sizes.",
    run=run,
    curve=("eps", "robust_acc"),
)
