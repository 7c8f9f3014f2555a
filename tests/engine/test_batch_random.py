"""Attacks with per-call randomness (pyautoattack's) run on fixed blocks of points, so their results do not
depend on the batch size or on how the points are sharded."""

from __future__ import annotations

import pytest

from robench.engine.evaluate import merge_shards
from robench.engine.evaluation import Evaluation
from robench.engine.settings import RunSettings
from robench.pipeline.evaluate import evaluate
from robench.threat import ThreatModel

BLOCK = 64  # small blocks (default 256) keep the test fast
THREAT = ThreatModel("linf", 0.12)
SUITE = ["square-300"]  # pyautoattack's Square: its randomness is per call, not per point


def outcomes(result):
    return [(s.index, s.robust, s.broken_by) for s in result.samples]


@pytest.mark.slow
def test_square_stage_is_independent_of_batch_size_and_sharding(tiny_digits_model, digits_test):
    data = digits_test.subset(2 * BLOCK + 30, seed=0)  # three blocks, the last one partial
    settings = dict(suite=SUITE, seed=3, block_size=BLOCK)
    small = evaluate(tiny_digits_model, data, THREAT, batch_size=8, diagnostics=False, **settings)
    large = evaluate(tiny_digits_model, data, THREAT, batch_size=512, diagnostics=False, **settings)
    square = small.stages[0]
    assert square.attacked > 100 and square.broken > 5  # the stage really attacked and broke points
    assert outcomes(small) == outcomes(large)
    for world in (2, 3):
        evaluation = Evaluation(tiny_digits_model, data, THREAT, RunSettings(batch_size=16, **settings))
        shards = [evaluation.run(None, shard=(r, world)) for r in range(world)]
        merged = merge_shards(shards)
        assert outcomes(merged) == outcomes(small)
        counts = [(s.attacked, s.broken) for s in small.stages]
        assert [(s.attacked, s.broken) for s in merged.stages] == counts
