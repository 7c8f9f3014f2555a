"""A randomised model (dropout at test time): the suite switches to EOT and AutoAttack to its rand version."""

from __future__ import annotations

import pytest
from engine_toys import DropoutAtTest

from robench.attacks.autoattack import AutoAttackRand
from robench.engine.evaluation import SUITE_EOT_SAMPLES as EOT_SAMPLES
from robench.engine.evaluation import Evaluation
from robench.engine.settings import RunSettings
from robench.pipeline.evaluate import evaluate
from robench.threat import ThreatModel

SUITE = ("fgsm", "autoattack")
N = 16
APGD_STEPS = 100  # per APGD run of AutoAttack's rand version (APGD-CE, then APGD-DLR)


@pytest.mark.parametrize("threat", [ThreatModel("linf", 0.1), ThreatModel("l2", 0.75)], ids=["linf", "l2"])
def test_randomised_model_runs_autoattack_rand_with_eot_and_is_unreliable(
    tiny_digits_model, digits_test, threat
):
    model = DropoutAtTest(getattr(tiny_digits_model, "net", tiny_digits_model)).eval()
    with pytest.warns(UserWarning, match=f"EOT over {EOT_SAMPLES} samples"):
        prepared = Evaluation(model, digits_test, threat, RunSettings(suite=list(SUITE), n=N))
    fgsm, autoattack = prepared.attacks
    assert fgsm.eot_samples == EOT_SAMPLES
    assert isinstance(autoattack, AutoAttackRand) and autoattack.version == "rand"

    with pytest.warns(UserWarning, match="outputs change between identical forwards"):
        result = evaluate(model, digits_test, threat, suite=list(SUITE), n=N, seed=0)
    assert result.suite["attacks"] == ["fgsm", "autoattack-rand"]
    assert [stage.attack for stage in result.stages[:2]] == ["fgsm", "autoattack-rand"]
    assert result.eot_samples == EOT_SAMPLES and result.probe.randomized
    flag = next(flag for flag in result.flags if flag.code == "randomized_model")
    assert flag.severity == "error" and flag.evidence["eot"] is True
    assert result.verdict == "unreliable"
    stage = result.stages[1]
    assert stage.attacked > 0
    # EOT is really on: without it APGD-CE + APGD-DLR cost at most about 2 x 100 backward passes a point
    assert stage.cost.backward >= 5 * APGD_STEPS * stage.attacked
