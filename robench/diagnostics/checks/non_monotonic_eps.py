"""``non_monotonic_eps``: robust accuracy must not rise as eps grows. PGD-20 (random start) over
eps/4, eps/2, eps, 2·eps, 4·eps (Linf capped at 1) on a bounded sample of clean-correct points."""

from __future__ import annotations

from robench.attacks import build_attack
from robench.diagnostics.tools import attack_breaks
from robench.engine.record import Flag
from robench.threat import ThreatModel

CODE = "non_monotonic_eps"
FACTORS = (0.25, 0.5, 1.0, 2.0, 4.0)
MAX_RISE = 0.03  # a rise of more than 3 points of the sample (and at least 2 points) flags
STEPS = 20


def run(ctx) -> list[Flag]:
    positions = ctx.sample(ctx.clean_correct, salt=11)
    if positions.numel() == 0:
        return []
    seeds = ctx.salted_seeds(positions, 11)
    sweep = sorted(
        {min(ctx.threat.eps * f, 1.0) if ctx.threat.norm == "linf" else ctx.threat.eps * f for f in FACTORS}
    )
    settings = ctx.attack_settings
    accuracies = []
    for eps in sweep:
        threat = ThreatModel(ctx.threat.norm, eps)
        broken = attack_breaks(ctx, build_attack(f"pgd-{STEPS}", threat, **settings), positions, seeds)
        accuracies.append(1.0 - broken.float().mean().item())
    allowed = max(MAX_RISE, 2 / positions.numel())
    rises = [
        (sweep[i], sweep[i + 1]) for i in range(len(sweep) - 1) if accuracies[i + 1] > accuracies[i] + allowed
    ]
    if not rises:
        return []
    table = ", ".join(f"{eps:.4g}: {acc:.0%}" for eps, acc in zip(sweep, accuracies, strict=True))
    message = (
        f"Robust accuracy rises with eps (PGD-{STEPS} on {positions.numel()} points; {table}): a larger budget "
        "cannot make a model more robust, so the attack is failing (gradient masking or bad step sizes)."
    )
    evidence = {
        "eps": sweep,
        "robust_acc": accuracies,
        "points": int(positions.numel()),
        "allowed_rise": allowed,
    }
    return [Flag(CODE, "error", message, evidence)]
