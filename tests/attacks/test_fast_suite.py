"""The ``fast`` suite (data, escalation rules, end to end) and ``autoattack-t``."""

from __future__ import annotations

import pytest
import torch

from robench.attacks import build_attack, parse_spec
from robench.attacks.suites import load_suite
from robench.errors import AttackError, RobenchError
from robench.threat import ThreatModel


def test_fast_is_data_with_escalation_rules():
    fast = load_suite("fast")
    assert fast.version == "3" and fast.attacks[:2] == ("fgsm", "pgd-20")
    assert {parse_spec(s).family for s in fast.attacks} == {"fgsm", "pgd", "apgd", "apgd-t"}
    assert fast.focus.attacks == ("apgd-t-100x9",) and 0 < fast.focus.fraction < 1
    assert fast.to_dict()["focus"] == {"fraction": fast.focus.fraction, "attacks": ["apgd-t-100x9"]}
    assert fast.escalate["black_box_stronger"] == ("square-5000",)
    assert fast.to_dict()["escalate"]["incomplete_optimization"] == ["apgd-t-100x9", "apgd-100x2"]
    assert "escalate" not in load_suite("standard").to_dict()  # stored records of other suites unchanged


def test_suite_file_with_escalation(tmp_path):
    path = tmp_path / "mine.toml"
    head = 'name = "m"\nversion = "1"\nattacks = ["pgd-20"]\n[escalate]\n'
    path.write_text(head + 'noise_stronger = ["square-100"]\n')
    assert load_suite(path).escalate == {"noise_stronger": ("square-100",)}
    path.write_text(head + 'noise_stronger = "square"\n')
    with pytest.raises(RobenchError, match="escalate must map"):
        load_suite(path)
    path.write_text(head + 'noise_stronger = ["sqare"]\n')
    with pytest.raises(AttackError, match="did you mean 'square'"):
        load_suite(path)


def test_autoattack_t_is_autoattack_without_apgd_ce(digits_test):
    from robench.models.loading import load_model

    model = load_model("digits/linf/standard").module  # not robust: APGD-T breaks it at once
    attack = build_attack("autoattack-t", ThreatModel("linf", 0.3))
    assert attack.batch_random and attack.uses_gradients
    x, y = digits_test.images[:6], digits_test.labels[:6]
    with torch.no_grad():
        keep = model(x).argmax(1) == y
    attack(model, x[keep], y[keep], torch.arange(int(keep.sum())))
    assert "apgd-t, fab-t, square" in attack.last_log and "apgd-ce" not in attack.last_log


def test_fast_end_to_end_cascade(digits_test):
    from robench.engine.evaluate import evaluate
    from robench.engine.settings import RunSettings
    from robench.models.loading import load_model

    model = load_model("digits/linf/pgd").module
    result = evaluate(model, digits_test, ThreatModel("linf", 0.3), RunSettings(suite="fast", n=40, seed=0))
    stages = [s for s in result.stages if s.escalated_by is None]
    assert [s.attack for s in stages] == list(load_suite("fast").attacks)
    for before, after in zip(stages, stages[1:], strict=False):
        assert after.attacked == before.attacked - before.broken and after.rejected == 0
    assert result.robust_acc < stages[1].robust_acc  # the APGD stages break what fgsm and pgd-20 left
