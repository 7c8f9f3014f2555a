"""``incomplete_optimization``: more effort than the whole suite still lowers the final number.

On a sample of the final survivors (up to 32, after every other check folded its breaks in): new
restarts with new seeds of the strongest gradient attacks, margin-loss PGD with 100 steps and 2 restarts
(``cw-100x2`` for linf; the same PGD in the l2 norm, where the suite's ``cw`` is C&W's optimisation) then
``pgd-100x1`` (cross-entropy) on what is left. Only the suite's final
number is judged, never an intermediate stage: a PGD ladder that AutoAttack later beats is expected.

A suite with a focus (``Suite.focus``: stronger attacks on the survivors the cascade brought closest to
the boundary, as ``fast`` ends) has measured this already where it is most likely to show: the points
the focus broke are the evidence, and no extra attack runs. So has a cascade whose last stage repeats an
earlier one (a new round of the same attack from new random starts), on every survivor.
"""

from __future__ import annotations

import torch

from robench.attacks import build_attack
from robench.attacks.cw import margin_pgd
from robench.core.record import FOCUS, Flag
from robench.diagnostics.check import Check
from robench.diagnostics.context import ATTACK_SAMPLE_SIZE
from robench.diagnostics.tools import attack_breaks, estimated_drop, extra_breaks_flag, overstated_p

CODE = "incomplete_optimization"
SPECS = ("cw-100x2", "pgd-100x1")


def run(ctx) -> list[Flag]:
    specs = ctx.suite_attacks
    focus = [stage for stage in ctx.result.stages if stage.escalated_by == FOCUS]
    if focus:
        return _suite_evidence(ctx, focus, "focus on the survivors closest to the boundary")
    if ctx.result.mode == "cascade" and len(specs) >= 2 and specs[-1] in specs[:-1]:
        last = [stage for stage in ctx.result.stages if stage.escalated_by is None][-1]
        return _suite_evidence(ctx, [last], "last round of restarts")
    survivors = int(ctx.robust.sum())
    positions = ctx.sample(ctx.robust, CODE, limit=ATTACK_SAMPLE_SIZE)
    if positions.numel() == 0:
        return []
    broken = torch.zeros(positions.numel(), dtype=torch.bool)
    per_attack = {}
    attacks = (  # margin PGD in either norm (the l2 suite's cw is C&W's optimisation, without EOT)
        margin_pgd(ctx.threat, 100, 2, **ctx.attack_settings),
        build_attack("pgd-100x1", ctx.threat, **ctx.attack_settings),
    )
    for spec, attack in zip(SPECS, attacks, strict=True):
        todo = (~broken).nonzero().flatten()
        seeds = ctx.point_seeds(positions[todo], f"{CODE}/{spec}")
        breaks = attack_breaks(ctx, attack, positions[todo], seeds)
        per_attack[spec] = int(breaks.sum())
        broken[todo[breaks]] = True
    count = ctx.mark_broken(positions, broken, "extra-restarts")
    drop = estimated_drop(ctx, count, positions.numel(), survivors)
    message = (
        f"Extra restarts and iterations ({', '.join(SPECS)}) broke {count} of {positions.numel()} sampled "
        f"survivors of the whole suite (about {drop:.1%} of robust accuracy): its optimisation had not "
        "converged. Those points now count as broken; use a stronger suite (more restarts, AutoAttack)."
    )
    evidence = {"attacks": per_attack, "attacked": int(positions.numel()), "broken": count}
    p_value = overstated_p(ctx, count, int(positions.numel()), survivors)
    return extra_breaks_flag(CHECK, message, count, drop, evidence, p_value)


def _suite_evidence(ctx, stages: list, what: str) -> list[Flag]:
    """The suite's own further effort as the convergence test (see the module docstring)."""
    broken, attacked = sum(s.broken for s in stages), max(s.attacked for s in stages)
    drop = broken / max(ctx.n, 1)
    names = ", ".join(s.attack for s in stages)
    message = (
        f"The suite's {what} ({names}) still broke {broken} of {attacked} survivors (about {drop:.1%} of "
        "robust accuracy): its optimisation had not converged. Use a stronger suite (more restarts, "
        "AutoAttack)."
    )
    evidence = {"attack": names, "attacked": attacked, "broken": broken, "source": "suite"}
    p_value = overstated_p(ctx, broken, attacked, attacked)  # every survivor attacked: no sample
    return extra_breaks_flag(CHECK, message, broken, drop, evidence, p_value)


CHECK = Check(
    code=CODE,
    severity="error",
    meaning="Extra effort beyond the whole suite (margin-loss PGD-100 with 2 restarts, then cross-entropy "
    "PGD-100, from new random starts) broke some of the suite's survivors: its optimisation had not "
    "converged, so its number was too high. Those points now count as broken.",
    action="Evaluate with a stronger suite (more restarts or iterations, AutoAttack); the evidence's "
    "estimated_drop says how much accuracy the sample suggests was overstated.",
    run=run,
    resolved_by_escalation=True,
)
