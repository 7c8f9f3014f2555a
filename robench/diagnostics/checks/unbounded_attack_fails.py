"""``unbounded_attack_fails``: with an unbounded budget (Linf eps 1: any image is reachable; L2 the
diagonal of the input box) PGD must break essentially every point. It starts at x, without a random
start (which alone would reach ~90 % at eps 1), so it tests the gradients themselves. A success below
``MIN_SUCCESS`` is an error when an exact binomial test says chance would rarely produce it from an attack
that succeeds that often (``robench.core.stats``), else a warning that there are too few points."""

from __future__ import annotations

import math

import torch

from robench.attacks import build_attack
from robench.core.record import Flag
from robench.core.stats import binomial_cdf
from robench.diagnostics.check import Check
from robench.diagnostics.tools import attack_breaks
from robench.threat import ThreatModel

CODE = "unbounded_attack_fails"
MIN_SUCCESS = 0.95
STEPS = 20


def unbounded_threat(threat: ThreatModel, shape: tuple[int, ...]) -> ThreatModel:
    return ThreatModel(threat.norm, 1.0 if threat.norm == "linf" else math.sqrt(math.prod(shape)))


def run(ctx) -> list[Flag]:
    if ctx.randomized:
        return []  # comparisons of one-draw numbers of a random model; randomized_model flags it
    # survivors first (where a failing attack matters), topped up with other clean-correct points
    positions = ctx.sample(ctx.robust, CODE)
    room = ctx.sample_size - positions.numel()
    if room > 0:
        others = ctx.sample(ctx.clean_correct & ~ctx.robust, f"{CODE}/others", limit=room)
        positions = torch.cat([positions, others]).sort().values
    if positions.numel() == 0:
        return []
    threat = unbounded_threat(ctx.threat, tuple(ctx.x.shape[1:]))
    settings = ctx.attack_settings
    attack = build_attack(f"pgd-{STEPS}", threat, random_start=False, **settings)
    broken = attack_breaks(ctx, attack, positions, ctx.point_seeds(positions, CODE))
    success = broken.float().mean().item()
    if success >= MIN_SUCCESS:
        return []
    message = (
        f"PGD-{STEPS} with an unbounded budget ({threat}) broke only {success:.0%} of {positions.numel()} "
        "points (expected ~100 %): the attack cannot follow this model's gradients, so bounded attacks "
        "failing says little about robustness."
    )
    evidence = {
        "eps": threat.eps,
        "attacked": int(positions.numel()),
        "broken": int(broken.sum()),
        "success": success,
        "threshold": MIN_SUCCESS,
    }
    p_value = binomial_cdf(int(broken.sum()), int(positions.numel()), MIN_SUCCESS)  # P(so few breaks)
    return [CHECK.decide(message, evidence, p_value)]


CHECK = Check(
    code=CODE,
    severity="error",
    meaning="PGD with an unbounded budget (Linf eps 1, L2 the diagonal of the input box) should break "
    "essentially every point but did not: the attacks cannot follow this model's gradients, so a bounded "
    "attack failing says little about robustness (gradient masking).",
    action="Treat the robust accuracy as an overestimate; inspect the model's gradients and evaluate with an "
    "adaptive attack.",
    run=run,
)
