"""The l2 threat model end to end: a suite of every attack family through ``evaluate``, outputs checked."""

from __future__ import annotations

import pytest
import torch

from robench.attacks import build_attack
from robench.attacks.base import Attack
from robench.core.seeding import point_seed
from robench.pipeline.evaluate import evaluate
from robench.threat import ThreatModel

THREAT = ThreatModel("l2", 0.75)  # on the tiny model: FGSM leaves about half the points, PGD a quarter
SUITE = ("fgsm", "pgd-20", "cw", "autoattack")
N, SEED = 24, 0


class Recorded(Attack):
    """Runs ``inner`` and keeps every output by point seed, so the test can look at what was counted."""

    def __init__(self, inner: Attack) -> None:
        super().__init__(inner.threat, inner.spec)
        self.inner, self.outputs = inner, {}
        self.batch_random, self.uses_gradients = inner.batch_random, inner.uses_gradients

    def perturb(self, model, x, y, seeds):
        x_adv = self.inner(model, x, y, seeds)
        for seed, row, row_adv, label in zip(seeds.tolist(), x, x_adv, y, strict=True):
            self.outputs[seed] = (row, row_adv, label)
        return x_adv


@pytest.mark.slow
def test_l2_suite_runs_every_stage_and_counts_only_examples_inside_the_ball(tiny_digits_model, digits_test):
    model = tiny_digits_model
    attacks = [Recorded(build_attack(spec, THREAT)) for spec in SUITE]
    result = evaluate(model, digits_test, THREAT, suite=attacks, n=N, seed=SEED)
    assert [stage.attack for stage in result.stages[: len(SUITE)]] == list(SUITE)
    assert all(stage.attacked > 0 for stage in result.stages[: len(SUITE)])  # every stage ran
    assert not result.problems.rejected and all(stage.rejected == 0 for stage in result.stages)
    assert 0 < result.robust_acc < result.clean_acc  # both kinds of points
    assert result.verdict == "reliable"  # an honest model: no diagnostic finds more than the suite

    checked = 0
    for position, attack in enumerate(attacks):
        assert attack.outputs, f"{attack.spec} was never called"
        x, x_adv, _ = (torch.stack(column) for column in zip(*attack.outputs.values(), strict=True))
        assert THREAT.contains(x_adv, x).all(), f"{attack.spec} left the l2 ball or [0, 1]"
        for sample in result.samples:
            if sample.broken_by == attack.spec:  # what the record counts, checked from scratch
                x, x_adv, label = attack.outputs[point_seed(SEED, sample.index, position)]
                assert THREAT.distance(x_adv[None], x[None]).item() <= THREAT.eps + 1e-6
                assert model(x_adv[None]).argmax(1).item() != label
                checked += 1
    assert checked == sum(stage.broken for stage in result.stages[: len(SUITE)]) > 0

    alone = evaluate(model, digits_test, THREAT, suite=list(SUITE), n=N, seed=SEED, independent=True,
                     diagnostics=False)  # fmt: skip
    assert [stage.attack for stage in alone.stages] == list(SUITE)
    assert all(result.robust_acc <= stage.robust_acc for stage in alone.stages)
