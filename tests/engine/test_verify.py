"""Attack outputs that break the threat model are rejected and never counted as successes."""

from __future__ import annotations

import pytest
import torch
from engine_toys import THREAT, Faulty, Scripted, ToyModel, toy_dataset

from robench.core.verify import verify
from robench.pipeline.evaluate import evaluate

TARGETS = {100, 102, 105}


@pytest.mark.parametrize(
    ("how", "reason"), [("ball", "distance"), ("box", "outside [0, 1]"), ("nan", "non-finite")]
)
def test_faulty_attack_outputs_are_rejected_and_the_next_stage_still_attacks(how, reason):
    data = toy_dataset(20)
    faulty = Faulty(THREAT, "faulty", TARGETS, data, how)
    honest = Scripted(THREAT, "honest", set(), data)
    with pytest.warns(UserWarning, match="rejected"):
        result = evaluate(ToyModel(), data, THREAT, suite=[faulty, honest], diagnostics=False)
    stage = result.stages[0]
    assert (stage.rejected, stage.broken, stage.attacked) == (3, 0, 18)
    assert result.robust_acc == pytest.approx(18 / 20)
    assert all(s.robust for s in result.samples if s.index in TARGETS)
    assert set(honest.seen) >= TARGETS  # rejected points stay robust, so the next stage attacks them
    rejected = result.problems.rejected
    assert sorted(r.index for r in rejected) == sorted(TARGETS)
    assert all(reason in r.reason and r.stage == "faulty" for r in rejected)


def test_verify_decides_by_a_fresh_eval_forward_and_the_tolerance():
    model = ToyModel()
    x = torch.full((4, 1, 2, 2), 0.3)
    y = torch.zeros(4, dtype=torch.int64)
    x_adv = x.clone()
    x_adv[0, 0, 0, 0] = 0.55  # valid and misclassified
    x_adv[1, 0, 0, 0] = 0.45  # valid, still correct
    x_adv[2, 0, 0, 0] = 0.55 + 5e-7  # within tolerance 1e-6 of the ball: valid
    x_adv[3, 0, 0, 0] = 0.55 + 1e-5  # beyond the tolerance: rejected
    model.train()
    check = verify(model, x, x_adv, y, THREAT)
    assert not model.training
    assert check.valid.tolist() == [True, True, True, False]
    assert check.broken.tolist() == [True, False, True, False]
    # the toy's logits are (-m/2, m/2) with m = 4 (x0 - 0.5): the margin of label 0 is 4 (0.5 - x0)
    expected = [-0.2, 0.2, -0.2 - 2e-6]
    assert check.margin[:3].tolist() == pytest.approx(expected, abs=1e-5) and check.margin[3].isnan()


def test_wrong_output_shape_is_rejected():
    x = torch.full((3, 1, 2, 2), 0.3)
    check = verify(ToyModel(), x, x[:2], torch.zeros(3, dtype=torch.int64), THREAT)
    assert not check.valid.any() and not check.broken.any()
    assert "shape" in check.reasons[0]


def test_nonfinite_logits_on_a_valid_input_count_as_broken():
    class NanAbove(ToyModel):
        def forward(self, x):
            logits = super().forward(x)
            return torch.where(x.flatten(1)[:, :1] > 0.4, torch.full_like(logits, float("nan")), logits)

    x = torch.full((2, 1, 2, 2), 0.3)
    x_adv = x.clone()
    x_adv[0, 0, 0, 0] = 0.45
    check = verify(NanAbove(), x, x_adv, torch.zeros(2, dtype=torch.int64), THREAT)
    assert check.broken.tolist() == [True, False] and check.nonfinite.tolist() == [True, False]
    assert check.margin[0].isnan() and check.margin[1].item() == pytest.approx(0.8)
