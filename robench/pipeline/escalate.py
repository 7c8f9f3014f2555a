"""Escalation: a suite's extra rounds and rules (``Suite.escalate``: flag code -> attack specs) run after
the diagnostics.

Extra rounds first (``Suite.extra_rounds``): while the suite's last round (or the extra round before)
still broke points, its attack runs once more, from new random starts, on every point still robust, at
most ``extra_rounds`` times; each is a stage with ``escalated_by = "extra_rounds"``. A converged
optimisation pays nothing: a round that breaks no point ends them.

When a flag with a rule fired, its attacks run as further stages on every point still robust (after the
suite and the diagnostics' own breaks), each output verified; their breaks count in the worst case and
each stage is a row of the record (``StageResult.escalated_by``). A flag whose check declares
``resolved_by_escalation`` (the escalation is the answer it asks for: Square on every survivor for
``black_box_stronger``, more targets and restarts for ``incomplete_optimization``) is then kept as a
warning that says what the escalation broke; any other flag keeps its severity.
"""

from __future__ import annotations

import dataclasses

from robench.attacks.suites import Suite
from robench.core.record import EvaluationResult, Flag, StageResult
from robench.core.seeding import STAGE_BASE
from robench.diagnostics.catalog import check_of
from robench.diagnostics.verdict import verdict
from robench.engine.evaluation import Evaluation, build_suite_attack

ESCALATION_STAGE = STAGE_BASE["escalation"]
ROUND_STAGE = STAGE_BASE["round"]
EXTRA_ROUNDS = "extra_rounds"  # StageResult.escalated_by of an extra round


def escalate(evaluation: Evaluation, result: EvaluationResult) -> EvaluationResult:
    """Extra rounds, then the rules of the flags that fired (see the module docstring); the record is
    updated in place."""
    suite = evaluation.definition
    if suite is None:
        return result
    extra_rounds(evaluation, result, suite)
    rules = dict(suite.escalate)
    fired = [flag.code for flag in result.flags if flag.code in rules]
    specs: dict[str, str] = {}  # spec -> the first flag that asked for it
    for code in fired:
        for spec in rules[code]:
            specs.setdefault(spec, code)
    broken_by_stage = {}
    for k, (spec, code) in enumerate(specs.items()):
        broken_by_stage[spec] = run_extra_stage(evaluation, result, spec, code, ESCALATION_STAGE + k)
    if specs:
        result.flags = [_answered(flag, rules, broken_by_stage) for flag in result.flags]
        result.verdict = verdict(result.flags)
    return result


def extra_rounds(evaluation: Evaluation, result: EvaluationResult, suite: Suite) -> None:
    """Rounds of the suite's last attack while the round before broke points (at most extra_rounds)."""
    suite_stages = [s for s in result.stages if s.escalated_by is None]
    if not suite.extra_rounds or result.mode != "cascade" or not suite_stages:
        return
    broke = suite_stages[-1].broken
    for k in range(suite.extra_rounds):
        if broke == 0 or not any(sample.robust for sample in result.samples):
            return
        broke = run_extra_stage(evaluation, result, suite.attacks[-1], EXTRA_ROUNDS, ROUND_STAGE + k)


def run_extra_stage(
    evaluation: Evaluation, result: EvaluationResult, spec: str, code: str, stage: int,
    among: set[int] | None = None,
) -> int:  # fmt: skip
    """One attack after the cascade on every robust point (``among``: only these positions), recorded as
    a stage with ``escalated_by = code``; returns how many it broke."""
    attack = build_suite_attack(spec, evaluation.threat, evaluation.eot_samples)
    positions = [
        p for p, sample in enumerate(result.samples) if sample.robust and (among is None or p in among)
    ]
    broken, cost, rejections = evaluation.attack_points(attack, stage, positions)
    for position, hit in zip(positions, broken, strict=True):
        if hit:
            result.samples[position].robust, result.samples[position].broken_by = False, attack.spec
    result.problems.rejected += rejections
    result.stages.append(
        StageResult(
            attack=attack.spec, robust_acc=result.robust_acc, attacked=len(positions), broken=sum(broken),
            cost=cost, rejected=len(rejections), escalated_by=code,
        )
    )  # fmt: skip
    return sum(broken)


def _answered(flag: Flag, rules: dict[str, tuple[str, ...]], broken: dict[str, int]) -> Flag:
    check = check_of(flag.code)
    if flag.code not in rules or check is None or not check.resolved_by_escalation:
        return flag
    ran = {spec: broken[spec] for spec in rules[flag.code]}
    done = ", ".join(f"{spec} broke {count}" for spec, count in ran.items())
    message = (
        f"{flag.message} Escalated as the suite's rule asks, on every survivor ({done}): those breaks now "
        "count, so the robust accuracy is as low as these attacks make it."
    )
    evidence = {**flag.evidence, "escalation": ran}
    return dataclasses.replace(flag, severity="warning", message=message, evidence=evidence)
