"""``black_box_stronger``: a gradient-free attack breaks points that every gradient attack missed.

Square (through pyautoattack) attacks the final survivors: ``square-500`` on up to 32 of them when the
gradients look healthy (a cheap check), the full ``square-5000`` on up to 512 when an earlier check found
them masked (then it is the attack that still works, and the number should be as low as it can make
it). Points broken by the suite's own black-box stages count too. Every break is verified and folded
into the worst case. A suite whose stage already ran Square with at least the probe's queries on every
survivor (``Attack.square_queries``: a Square stage, AutoAttack standard's last attack) is not probed
again: the probe could only repeat that stage from another random start. A stage with a rejected output
or a crash did not attack every point, so it covers nothing.
"""

from __future__ import annotations

import torch

from robench.attacks import build_attack
from robench.core.record import Flag
from robench.diagnostics.check import Check
from robench.diagnostics.context import ATTACK_SAMPLE_SIZE
from robench.diagnostics.tools import attack_breaks, estimated_drop, extra_breaks_flag, overstated_p
from robench.errors import RobenchError

CODE = "black_box_stronger"
CHEAP, FULL = ("square-500", ATTACK_SAMPLE_SIZE), ("square-5000", 512)


def run(ctx) -> list[Flag]:
    spec, limit = FULL if ctx.masking_suspected else CHEAP
    probe, attacks = build_attack(spec, ctx.threat), suite_attacks(ctx)
    covering = covering_stage(ctx, attacks, probe.square_queries)
    survivors = int(ctx.robust.sum())
    positions = torch.zeros(0, dtype=torch.long) if covering else ctx.sample(ctx.robust, CODE, limit=limit)
    broken = 0
    if positions.numel():
        breaks = attack_breaks(ctx, probe, positions, ctx.point_seeds(positions, CODE))
        broken = ctx.mark_broken(positions, breaks, spec)
    black_box = gradient_free(attacks)
    in_suite = sum(1 for by in ctx.broken_by if by in black_box)
    drop = estimated_drop(ctx, broken, positions.numel(), survivors) + in_suite / ctx.n
    probed = (
        f"no {spec} probe: the suite's {covering} already ran Square on every survivor"
        if covering
        else f"{spec}: {broken} of {positions.numel()} sampled survivors"
    )
    message = (
        f"Black-box attacks broke points every gradient attack missed ({probed}; the suite's black-box "
        f"stages: {in_suite}): either the gradients are masked or misleading, or the suite's gradient "
        "attacks are too weak to converge (a short suite such as quick; try standard). Those points now "
        "count as broken; gradient attacks cannot vouch for the rest."
    )
    evidence = {
        "attack": spec,
        "attacked": int(positions.numel()),
        "broken": broken,
        "suite_black_box_broken": in_suite,
        "probe_covered_by": covering,
    }
    # the suite's own black-box breaks count as attacked and broken survivors beside the probe's sample
    attacked = int(positions.numel()) + in_suite
    p_value = overstated_p(ctx, broken + in_suite, attacked, survivors + in_suite)
    return extra_breaks_flag(CHECK, message, broken + in_suite, drop, evidence, p_value)


def suite_attacks(ctx) -> list:
    """The suite's attacks: those the engine ran, else rebuilt from their names (a custom Attack's name
    that no spec rebuilds is left out)."""
    if ctx.attacks is not None:
        return list(ctx.attacks)
    attacks = []
    for name in ctx.suite_attacks:
        try:
            attacks.append(build_attack(name, ctx.threat))
        except RobenchError:
            continue
    return attacks


def covering_stage(ctx, attacks: list, queries: int) -> str | None:
    """The first suite stage that ran Square with at least ``queries`` queries validly on every point it
    was given (no output rejected, no crash), so on every final survivor; None if there is none."""
    problems = ctx.result.problems
    unattacked = {r.stage for r in problems.rejected} | {e.stage for e in problems.attack_errors}
    for attack in attacks:
        if getattr(attack, "square_queries", 0) >= queries and attack.spec not in unattacked:
            return attack.spec
    return None


def gradient_free(attacks: list) -> set[str]:
    return {attack.spec for attack in attacks if not attack.uses_gradients}


def black_box_stages(ctx) -> set[str]:
    """Names of the suite's gradient-free stages."""
    return gradient_free(suite_attacks(ctx))


CHECK = Check(
    code=CODE,
    severity="error",
    meaning="A gradient-free attack (Square) broke points that every gradient attack of the suite missed: "
    "either the gradients are masked or misleading, or the suite's gradient attacks are too weak to "
    "converge (a short suite such as quick). Those points now count as broken; the gradient attacks "
    "cannot vouch for the rest.",
    action="Evaluate with a stronger suite (standard); if the flag persists, treat the gradients as masked "
    "and rely on black-box and adaptive attacks.",
    run=run,
    resolved_by_escalation=True,
)
