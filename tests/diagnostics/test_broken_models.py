"""Each deliberately broken model raises its flag, with the numbers behind it, and is `unreliable`.

End to end through the engine (``evaluate`` with the quick suite, then the diagnostics), on the shared
tiny digits CNN with one defect added (see broken_models.py).
"""

from __future__ import annotations

import pytest
from broken_models import BrokenCNN


def flags_of(result):
    return {flag.code: flag for flag in result.flags}


def check_round(flags, result):
    zero = flags["zero_gradients"].evidence
    assert zero["zero"] == zero["points"] > 0 and zero["margin_loss_usable"] == 0
    assert zero["straight_through_usable"] == zero["bpda_attacked"] > 0
    assert zero["bpda_broken"] >= 0.5 * zero["bpda_attacked"]  # BPDA gets through the rounding
    assert flags["unbounded_attack_fails"].evidence["success"] < 0.5


def check_detach(flags, result):
    zero = flags["zero_gradients"].evidence
    assert zero["missing"] == zero["points"] == round(result.clean_acc * result.n)
    assert zero["bpda_broken"] > 0  # straight-through detach restores the gradients
    assert flags["unbounded_attack_fails"].evidence["broken"] == 0


def check_numpy(flags, result):
    zero = flags["zero_gradients"].evidence
    assert zero["missing"] == zero["points"] > 0 and zero["bpda_attacked"] == 0  # no torch graph to bridge
    black_box = flags["black_box_stronger"].evidence
    assert black_box["attack"] == "square-5000"  # escalated: gradients were found masked
    assert black_box["broken"] >= 0.5 * black_box["attacked"] > 0
    assert flags["noise_stronger"].evidence["broken"] >= 1
    assert result.robust_acc <= 0.2  # the suite alone left ~90 %


def check_scale(flags, result):
    zero = flags["zero_gradients"].evidence
    assert zero["zero"] == zero["points"] and zero["margin_loss_usable"] == zero["points"]
    assert flags["unbounded_attack_fails"].evidence["success"] < 0.5


def check_softmax(flags, result):
    assert flags["probabilities_output"].evidence["probability_rows"] == 1.0


def check_dropout(flags, result):
    evidence = flags["randomized_model"].evidence
    assert evidence["randomized"] and evidence["prediction_disagreement"] > 0.05
    assert evidence["eot"] is True and result.eot_samples > 1  # the suite switched to EOT


def check_nan(flags, result):
    evidence = flags["non_finite_outputs"].evidence
    assert evidence["clean"] == 0 and evidence["noise"] == evidence["noise_points"] > 0
    assert evidence["adversarial"] == round(result.clean_acc * result.n)  # FGSM leaves the grid everywhere


CASES = {
    "round": check_round,
    "detach": check_detach,
    "numpy": check_numpy,
    "scale": check_scale,
    "softmax": check_softmax,
    "dropout": check_dropout,
    "nan": check_nan,
}


@pytest.mark.parametrize("defect", sorted(CASES))
def test_broken_model_is_flagged_and_unreliable(defect, tiny_net, run_evaluation):
    result = run_evaluation(BrokenCNN.of(tiny_net, defect), n=50)
    flags = flags_of(result)
    CASES[defect](flags, result)
    assert result.verdict == "unreliable"
    assert all(flag.severity == "error" and flag.message for flag in result.flags if flag.code in flags)
    suite_acc = result.stages[-1].robust_acc
    assert result.robust_acc == pytest.approx(suite_acc - len(result.diagnostics.broken) / result.n)
