"""``black_box_stronger``: a gradient-free attack breaks points that every gradient attack missed.

Square (through pyautoattack) attacks the final survivors: ``square-500`` on up to 32 of them when the
gradients look healthy (a cheap check), the full ``square-5000`` on up to 512 when an earlier check found
them masked (then it is the attack that still works, and the number should be as low as it can make
it). Points broken by the suite's own black-box stages count too. Every break is verified and folded
into the worst case.
"""

from __future__ import annotations

from robench.attacks import build_attack
from robench.core.record import Flag
from robench.diagnostics.check import Check
from robench.diagnostics.context import ATTACK_SAMPLE_SIZE
from robench.diagnostics.tools import attack_breaks, estimated_drop, extra_breaks_flag
from robench.errors import RobenchError

CODE = "black_box_stronger"
CHEAP, FULL = ("square-500", ATTACK_SAMPLE_SIZE), ("square-5000", 512)


def run(ctx) -> list[Flag]:
    spec, limit = FULL if ctx.masking_suspected else CHEAP
    survivors = int(ctx.robust.sum())
    positions = ctx.sample(ctx.robust, CODE, limit=limit)
    broken = 0
    if positions.numel():
        breaks = attack_breaks(
            ctx, build_attack(spec, ctx.threat), positions, ctx.point_seeds(positions, CODE)
        )
        broken = ctx.mark_broken(positions, breaks, spec)
    black_box = black_box_stages(ctx)
    in_suite = sum(1 for by in ctx.broken_by if by in black_box)
    drop = estimated_drop(ctx, broken, positions.numel(), survivors) + in_suite / ctx.n
    message = (
        f"Black-box attacks broke points every gradient attack missed ({spec}: {broken} of "
        f"{positions.numel()} sampled survivors; the suite's black-box stages: {in_suite}): either the "
        "gradients are masked or misleading, or the suite's gradient attacks are too weak to converge "
        "(a short suite such as quick; try standard). Those points now count as broken; gradient attacks "
        "cannot vouch for the rest."
    )
    evidence = {
        "attack": spec,
        "attacked": int(positions.numel()),
        "broken": broken,
        "suite_black_box_broken": in_suite,
    }
    return extra_breaks_flag(CHECK, message, broken + in_suite, drop, evidence)


def black_box_stages(ctx) -> set[str]:
    """Names of the suite's gradient-free stages: from the attacks the engine ran, else rebuilt from their
    names (a custom Attack's name that no spec rebuilds is left out)."""
    if ctx.attacks is not None:
        return {attack.spec for attack in ctx.attacks if not attack.uses_gradients}
    names = set()
    for name in ctx.suite_attacks:
        try:
            attack = build_attack(name, ctx.threat)
        except RobenchError:
            continue
        if not attack.uses_gradients:
            names.add(name)
    return names


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
