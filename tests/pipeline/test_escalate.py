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


def test_extra_rounds_repeat_the_last_attack_while_it_breaks_points(tmp_path, digits_test):
    """fgsm -> pgd-3 leaves points that more pgd-3 rounds (new random starts) break: rounds run while the
    round before broke something, on every survivor, at most extra_rounds times, and their breaks count."""
    model, threat = load_model("digits/linf/pgd").module, ThreatModel("linf", 0.3)
    plain = evaluate(model, digits_test, threat, suite=_suite(tmp_path, '["fgsm", "pgd-3"]'), n=80)
    suite = _suite(tmp_path, '["fgsm", "pgd-3"]', "extra_rounds = 6\n")
    result = evaluate(model, digits_test, threat, suite=suite, n=80)
    rounds = [s for s in result.stages if s.escalated_by == "extra_rounds"]
    assert [s.attack for s in result.stages[:2]] == ["fgsm", "pgd-3"] and 1 <= len(rounds) <= 6
    assert result.stages[1].broken > 0  # the suite's own last round broke points: the rounds began
    previous, survivors = result.stages[1], sum(s.robust for s in result.samples)
    for stage in rounds:  # the diagnostics' breaks come between the suite and the rounds
        assert stage.attack == "pgd-3" and previous.broken > 0
        assert stage.attacked <= previous.attacked - previous.broken
        previous = stage
    # every survivor of the rounds was attacked (a masking flag's adaptive stage may break more afterwards)
    adaptive = sum(s.broken for s in result.stages if s.escalated_by == "adaptive")
    assert rounds[-1].attacked - rounds[-1].broken == survivors + adaptive
    assert len(rounds) == 6 or rounds[-1].broken == 0  # stopped: the budget, or a round broke nothing
    broken_by_rounds = sum(s.broken for s in rounds)
    assert sum(s.broken_by == "pgd-5" for s in result.samples) >= broken_by_rounds
    assert broken_by_rounds > 0 or len(rounds) == 1
    assert result.robust_acc == pytest.approx(plain.robust_acc - broken_by_rounds / 80)


def test_no_extra_round_after_a_round_that_broke_nothing(tmp_path, digits_test):
    model = load_model("digits/linf/pgd").module  # at eps 0.15, pgd-5 breaks none of fgsm's survivors
    suite = _suite(tmp_path, '["fgsm", "pgd-5"]', "extra_rounds = 3\n")
    result = evaluate(model, digits_test, THREAT, suite=suite, n=80, diagnostics=True)
    rounds = [(s.attack, s.broken) for s in result.stages[1:] if s.escalated_by != "adaptive"]
    assert rounds == [("pgd-5", 0)]


@pytest.mark.parametrize(
    ("text", "message"), [("extra_rounds = -1\n", "0 to 100"), ('extra_rounds = "2"\n', "integer")]
)
def test_bad_extra_rounds_are_one_clear_error(tmp_path, text, message):
    from robench.attacks.suites import load_suite

    with pytest.raises(RobenchError, match=message):
        load_suite(_suite(tmp_path, '["pgd-5"]', text))
