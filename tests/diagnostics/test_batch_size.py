"""The diagnostics' results do not depend on the batch size, like the engine's.

Square (pyautoattack) draws its randomness per call, so the diagnostics call it on fixed chunks of
``block_size`` points, never on batches of ``batch_size``.
"""

from __future__ import annotations

import pytest
import torch
from broken_models import THREAT

import robench.pipeline.evaluate
from robench.attacks.base import Attack
from robench.diagnostics import DiagnosticContext
from robench.diagnostics.tools import attack_breaks
from robench.threat import ThreatModel

# eps 0.2 after FGSM alone: Square breaks some of the survivors it samples but not all of them, so its
# random draws decide points (with the diagnostics' Square chunked by batch size, 4 and 64 disagreed)
EPS_SQUARE_MATTERS = ThreatModel("linf", 0.2)


def outcomes(result):
    costs = [(c.check, c.cost.forward, c.cost.backward, c.broken) for c in result.diagnostics.checks]
    return {
        "samples": [(s.index, s.clean_correct, s.robust, s.broken_by) for s in result.samples],
        "robust_acc": result.robust_acc,
        "flags": [(f.code, f.severity, f.evidence) for f in result.flags],
        "costs": costs,
        "broken": result.diagnostics.broken,
    }


def test_diagnostics_results_are_identical_for_any_batch_size(tiny_net, run_evaluation):
    small, large = (
        outcomes(
            run_evaluation(
                tiny_net, suite=["fgsm"], n=60, threat=EPS_SQUARE_MATTERS, batch_size=batch, block_size=16
            )
        )
        for batch in (4, 64)
    )
    square = next(c for c in small["costs"] if c[0] == "black_box_stronger")
    assert square[1] > 1000 and square[3] >= 1  # Square ran and its breaks are in the final number
    assert small == large


class CallSizes(Attack):
    """Returns x unchanged and records the size of every call."""

    def __init__(self, threat: ThreatModel, batch_random: bool) -> None:
        super().__init__(threat, "call-sizes")
        self.batch_random, self.sizes = batch_random, []

    def perturb(self, model, x, y, seeds):
        self.sizes.append(x.shape[0])
        return x.clone()


@pytest.mark.parametrize(("batch_random", "sizes"), [(True, [16, 16, 8]), (False, [6] * 6 + [4])])
def test_per_call_random_attacks_run_on_chunks_of_block_size(
    tiny_net, run_evaluation, digits_test, batch_random, sizes
):
    result = run_evaluation(tiny_net, suite=["fgsm"], n=50, diagnostics=False)
    ctx = DiagnosticContext(
        model=tiny_net,
        data=digits_test.subset(50, 0),
        threat=THREAT,
        result=result,
        batch_size=6,
        block_size=16,
    )
    attack = CallSizes(THREAT, batch_random)
    positions = torch.arange(40)
    assert not attack_breaks(ctx, attack, positions, ctx.point_seeds(positions, "test")).any()
    assert attack.sizes == sizes


def test_evaluate_hands_its_block_size_to_the_diagnostics(tiny_net, run_evaluation, monkeypatch):
    seen = []
    monkeypatch.setattr(robench.pipeline.evaluate, "run_diagnostics", lambda ctx: seen.append(ctx.block_size))
    run_evaluation(tiny_net, suite=["fgsm"], n=20, block_size=7)
    assert seen == [7]
