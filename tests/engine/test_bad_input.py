"""Errors a user can cause are one clear RobenchError; gradient problems are recorded, never a crash."""

from __future__ import annotations

import pytest
import torch
from engine_toys import THREAT, GradientSteps, ToyModel, toy_dataset

from robench.engine.evaluation import auto_batch_size, resolve_suite
from robench.errors import RobenchError
from robench.pipeline.evaluate import evaluate
from robench.threat import ThreatModel


def _evaluate(model=None, **kwargs):
    kwargs.setdefault("suite", [GradientSteps(THREAT, "steps", 2)])
    kwargs.setdefault("threat", THREAT)
    return evaluate(model or ToyModel(), toy_dataset(20), diagnostics=False, **kwargs)


def test_wrong_number_of_classes_names_both_numbers():
    with pytest.raises(RobenchError, match="outputs 3 classes but toy has 2 classes"):
        _evaluate(ToyModel(num_classes=3))


def test_nan_logits_on_clean_inputs_are_a_clear_error():
    class Nan(ToyModel):
        def forward(self, x):
            return super().forward(x) * float("nan")

    with pytest.raises(RobenchError, match="NaN or inf logits on 20 clean images"):
        _evaluate(Nan())


def test_too_many_points_and_too_large_l2_eps_and_bad_device():
    with pytest.raises(RobenchError, match="larger than the 20 samples"):
        _evaluate(n=21)
    with pytest.raises(RobenchError, match="diameter"):
        _evaluate(threat=ThreatModel("l2", 2.5))  # 4 pixels: the [0,1] box has diameter 2
    with pytest.raises(RobenchError, match="unknown device"):
        _evaluate(device="tpu")
    with pytest.raises(RobenchError, match="batch-size"):
        _evaluate(batch_size=0)


def test_a_model_that_breaks_the_gradient_graph_is_recorded_not_crashed():
    class Detached(ToyModel):
        def forward(self, x):
            return super().forward(x.detach())

    with pytest.warns(UserWarning, match="unusable gradients"):
        result = _evaluate(Detached())
    assert sorted(result.problems.gradients.no_graph) == list(range(100, 120))
    assert result.problems.attack_errors and result.problems.attack_errors[0].stage == "steps"
    assert result.stages[0].broken == 0 and result.verdict == "unchecked"


def test_an_attack_crash_on_a_healthy_model_is_a_bug_and_propagates():
    class Crashing(GradientSteps):
        def perturb(self, model, x, y, seeds):
            raise RuntimeError("bug in the attack")

    with pytest.raises(RuntimeError, match="bug in the attack"):
        _evaluate(suite=[Crashing(THREAT, "crash")])


def test_zero_gradients_are_recorded_per_point():
    class Flat(ToyModel):
        def forward(self, x):
            logits = super().forward(x)
            return logits.detach() + 0 * x.flatten(1)[:, :1]  # graph intact, gradient exactly zero

    result = _evaluate(Flat())
    assert sorted(result.problems.gradients.zero_grad) == list(range(100, 120))
    assert result.problems.gradients.no_graph == []


def test_auto_batch_size_heuristic():
    assert auto_batch_size((1, 8, 8), "cpu", 360) == 360
    assert auto_batch_size((3, 32, 32), "cpu", 10_000) == 512
    assert auto_batch_size((3, 224, 224), "cpu", 10_000) == 16
    assert auto_batch_size((3, 32, 32), "cuda", 10_000) == 2048
    assert auto_batch_size((1, 8, 8), "cpu", 5) == 5


def test_diagnostics_turn_a_broken_gradient_graph_into_an_unreliable_verdict():
    class Detached(ToyModel):
        def forward(self, x):
            return super().forward(x.detach())

    result = evaluate(Detached(), toy_dataset(20), THREAT, suite=["fgsm"])
    assert result.verdict == "unreliable"
    assert "zero_gradients" in {f.code for f in result.flags}
    assert evaluate(ToyModel(), toy_dataset(20), THREAT, suite=["fgsm"]).verdict == "reliable"


def test_a_randomised_model_gets_eot_attacks_and_autoattack_rand():
    class Noisy(ToyModel):
        def forward(self, x):
            return super().forward(x) + 0.5 * torch.randn(x.shape[0], 2)

    with pytest.warns(UserWarning, match="EOT over 20"):
        result = _evaluate(Noisy(), suite=["pgd-7"])
    assert result.eot_samples == 20 and result.probe.randomized
    info, attacks = resolve_suite(["fgsm", "autoattack"], THREAT, eot_samples=20)
    assert info["attacks"] == ["fgsm", "autoattack-rand"] and attacks[0].eot_samples == 20
    assert _evaluate(suite=["pgd-7"]).eot_samples == 1
