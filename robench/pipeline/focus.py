"""Focus: a suite's stronger attacks on the survivors its cascade brought closest to the decision boundary.

Right after the cascade, before the diagnostics (the focus is part of the suite: it runs with or without
them), the points still robust are ranked by the smallest logit margin z_y - max z_t that any stage's
verified output reached (``SampleResult.margin``; never reached: last; ties: canonical order), and the
``ceil(fraction x survivors)`` smallest are the focus. Each focus attack in turn attacks the focus points
still robust, verified like any stage, recorded as a stage with ``escalated_by = "focus"``. The points an
attack nearly broke are where a harder attack pays: AutoAttack-grade attacks on a tenth of the survivors
cost a tenth of running them on all (docs/attacks.md, "fast"). Margins are float measurements: another
batch size or sharding changes them in the last bits only, so the focus holds the same points unless two
margins agree to about 1e-6. In a sharded run rank 0 runs the focus on the merged record.
"""

from __future__ import annotations

import math

from robench.core.record import FOCUS, EvaluationResult
from robench.core.seeding import STAGE_BASE
from robench.engine.evaluation import Evaluation
from robench.pipeline.escalate import run_extra_stage

FOCUS_STAGE = STAGE_BASE["focus"]


def closest_survivors(result: EvaluationResult, fraction: float) -> set[int]:
    """Positions of the ``ceil(fraction x survivors)`` robust points with the smallest margin."""
    survivors = [p for p, sample in enumerate(result.samples) if sample.robust]
    count = math.ceil(fraction * len(survivors))

    def closeness(position: int) -> tuple[float, int]:
        margin = result.samples[position].margin
        return (math.inf if margin is None else margin, result.samples[position].index)

    return set(sorted(survivors, key=closeness)[:count])


def run_focus(evaluation: Evaluation, result: EvaluationResult) -> EvaluationResult:
    """The suite's focus attacks on its closest survivors (see the module docstring); in place."""
    suite = evaluation.definition
    if suite is None or suite.focus is None or result.mode != "cascade":
        return result
    chosen = closest_survivors(result, suite.focus.fraction)
    for k, spec in enumerate(suite.focus.attacks):
        if not any(result.samples[p].robust for p in chosen):
            break
        run_extra_stage(evaluation, result, spec, FOCUS, FOCUS_STAGE + k, among=chosen)
    return result
