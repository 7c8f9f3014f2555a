"""``non_monotonic_eps``: robust accuracy must not rise as eps grows. PGD-20 (random start) over
eps/4, eps/2, eps, 2·eps, 4·eps (Linf capped at 1) on a bounded sample of clean-correct points. At eps
itself a suite that opens with fgsm -> pgd-20 (``tools.single_then_multi_stages``) has already attacked
them: its results are read.

A rise is decided per pair of neighbouring radii on the paired per-point outcomes (exact McNemar: points
robust at the larger eps and broken at the smaller, against the reverse; ``robench.core.stats``): a rise
beyond ``allowed_rise`` that chance could explain is a warning that there are too few points to decide."""

from __future__ import annotations

import torch

from robench.attacks import build_attack
from robench.core.record import Flag
from robench.core.stats import mcnemar_p
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
    outcomes = [_broken(ctx, eps, positions, seeds) for eps in sweep]
    accuracies = [1.0 - broken.float().mean().item() for broken in outcomes]
    allowed = allowed_rise(positions.numel())
    rises = rising_steps(sweep, accuracies, allowed)
    if not rises:
        return []
    table = ", ".join(f"{eps:.4g}: {acc:.0%}" for eps, acc in zip(sweep, accuracies, strict=True))
    message = (
        f"Robust accuracy rises with eps (PGD-{STEPS} on {positions.numel()} points; {table}): a larger "
        "budget cannot make a model more robust, so the attack is failing (gradient masking or bad "
        "step sizes)."
    )
    evidence = {"eps": sweep, "robust_acc": accuracies, "points": int(positions.numel())}
    evidence["allowed_rise"] = allowed
    p_values = []
    for low, high in rises:
        before, after = outcomes[sweep.index(low)], outcomes[sweep.index(high)]
        p_values.append(mcnemar_p(int((before & ~after).sum()), int((after & ~before).sum())))
    return [CHECK.decide(message, evidence, min(p_values))]


def _broken(ctx, eps: float, positions: torch.Tensor, seeds: torch.Tensor) -> torch.Tensor:
    """Bool per position: PGD-20 at ``eps`` broke it (at the evaluated eps, the suite's opening did)."""
    opening = single_then_multi_stages(ctx)
    if eps == ctx.threat.eps and opening:
        return torch.tensor([ctx.broken_by[p] in opening for p in positions.tolist()], dtype=torch.bool)
    attack = build_attack(f"pgd-{STEPS}", ThreatModel(ctx.threat.norm, eps), **ctx.attack_settings)
    return attack_breaks(ctx, attack, positions, seeds)


def allowed_rise(points: int) -> float:
    """The rise that counts as one at all (a single point of a small sample does not); chance then decides."""
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
