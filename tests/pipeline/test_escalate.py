"""Escalation: a suite's rule runs its attacks on every survivor when its flag fires; the breaks count,
the stage is recorded, and a flag the escalation answers becomes a warning. Suite files naming code
need the opt-in."""

from __future__ import annotations

import pytest

from robench.cli import main
from robench.errors import RobenchError
from robench.models.loading import load_model
from robench.pipeline.evaluate import evaluate
from robench.threat import ThreatModel

THREAT = ThreatModel("linf", 0.15)


def _suite(tmp_path, attacks, escalate="") -> str:
    path = tmp_path / f"suite{len(list(tmp_path.glob('suite*.toml')))}.toml"
    path.write_text(f'name = "weak"\nversion = "1"\nattacks = {attacks}\n' + escalate)
    return str(path)


def test_a_fired_flag_runs_its_escalation_on_every_survivor(tmp_path, digits_test):
    """FGSM alone leaves survivors that extra restarts break: incomplete_optimization fires, its rule runs
    pgd-100x2 on every survivor, whose breaks count; the flag is then a warning saying so."""
    rule = '[escalate]\nincomplete_optimization = ["pgd-100x2"]\n'
    suite = _suite(tmp_path, '["fgsm"]', rule)
    model = load_model("digits/linf/standard").module
    plain = evaluate(model, digits_test, THREAT, suite=_suite(tmp_path, '["fgsm"]'), n=60)
    (flag,) = [f for f in plain.flags if f.code == "incomplete_optimization"]
    assert flag.severity == "error" and plain.verdict == "unreliable"

    result = evaluate(model, digits_test, THREAT, suite=suite, n=60)
    (stage,) = [s for s in result.stages if s.escalated_by is not None]
    assert (stage.attack, stage.escalated_by) == ("pgd-100x2", "incomplete_optimization")
    survivors = sum(s.robust for s in result.samples) + stage.broken
    assert stage.attacked == survivors and stage.broken > 0 and stage.cost.backward > 0
    assert sum(s.broken_by == "pgd-100x2" for s in result.samples) == stage.broken
    assert result.robust_acc == pytest.approx(stage.robust_acc) and result.robust_acc < plain.robust_acc
    (answered,) = [f for f in result.flags if f.code == "incomplete_optimization"]
    assert answered.severity == "warning" and answered.evidence["escalation"] == {"pgd-100x2": stage.broken}
    assert "Escalated as the suite's rule asks" in answered.message
    assert result.verdict == (
        "reliable" if all(f.severity != "error" for f in result.flags) else "unreliable"
    )


def test_no_flag_no_escalation(tmp_path, tiny_digits_model, digits_test):
    rule = '[escalate]\nnoise_stronger = ["square-100"]\n'
    result = evaluate(
        tiny_digits_model, digits_test, THREAT, suite=_suite(tmp_path, '["pgd-20"]', rule), n=30
    )
    assert "noise_stronger" not in {f.code for f in result.flags}
    assert all(s.escalated_by is None for s in result.stages)


def test_a_suite_file_naming_code_needs_the_opt_in(tmp_path, tiny_digits_model, digits_test, capsys):
    suite = _suite(tmp_path, '["robench.attacks.fgsm:FGSM"]')
    with pytest.raises(RobenchError, match="names code to run"):
        evaluate(tiny_digits_model, digits_test, THREAT, suite=suite, n=10, diagnostics=False)
    result = evaluate(
        tiny_digits_model, digits_test, THREAT, suite=suite, n=10, diagnostics=False, trust_code=True
    )
    assert [s.attack for s in result.stages] == ["robench.attacks.fgsm:FGSM"]
    args = ["evaluate", "--model", "digits/linf/standard", "--suite", suite, "-n", "10", "--no-diagnostics"]
    assert main(args) == 2 and "--trust-code" in capsys.readouterr().err
    assert main([*args, "--trust-code"]) == 0
