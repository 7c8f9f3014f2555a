"""A suite's focus: its attacks run on only the survivors the cascade brought closest to the boundary
(by the smallest verified logit margin), before the diagnostics, whose convergence check reads them."""

from __future__ import annotations

import math

import pytest

from robench.attacks.suites import Focus, load_suite
from robench.cli import main
from robench.core.identity import EvaluationKey
from robench.engine.outcome import Outcome, merge_outcomes
from robench.errors import AttackError, RobenchError
from robench.leaderboard.table import DIAGNOSTICS, ladder_rows
from robench.models.loading import load_model
from robench.pipeline.evaluate import evaluate
from robench.pipeline.focus import closest_survivors
from robench.threat import ThreatModel

THREAT = ThreatModel("linf", 0.15)


def _suite(tmp_path, body: str) -> str:
    path = tmp_path / f"suite{len(list(tmp_path.glob('suite*.toml')))}.toml"
    path.write_text('name = "focused"\nversion = "1"\nattacks = ["fgsm"]\n' + body)
    return str(path)


def _cascade_survivors(result) -> list:
    """Samples robust after the cascade: clean-correct and not broken by a cascade stage."""
    cascade = {s.attack for s in result.stages if s.escalated_by is None}
    return [s for s in result.samples if s.clean_correct and s.broken_by not in cascade]


@pytest.mark.parametrize("diagnostics", [False, True])
def test_focus_attacks_only_the_closest_survivors(tmp_path, digits_test, diagnostics):
    """fgsm leaves survivors; pgd-20 as the focus attacks the ceil(0.25 x survivors) with the smallest
    margin fgsm's outputs reached, and only those (with or without the diagnostics)."""
    suite = _suite(tmp_path, '[focus]\nfraction = 0.25\nattacks = ["pgd-20"]\n')
    model = load_model("digits/linf/standard").module
    result = evaluate(model, digits_test, THREAT, suite=suite, n=60, diagnostics=diagnostics)
    assert result.stages[0].attack == "fgsm"
    (focus,) = [s for s in result.stages if s.escalated_by == "focus"]
    survivors = _cascade_survivors(result)
    assert all(s.margin is not None and s.margin > 0 for s in survivors)
    assert all(s.margin <= 0 for s in result.samples if s.broken_by == "fgsm")  # misclassified there
    closest = sorted(survivors, key=lambda s: (s.margin, s.index))[: math.ceil(0.25 * len(survivors))]
    assert focus.attack == "pgd-20" and focus.attacked == len(closest) < len(survivors)
    broken = {s.index for s in result.samples if s.broken_by == "pgd-20"}
    assert focus.broken == len(broken) > 0 and broken <= {s.index for s in closest}
    rows = [row.stage for row in ladder_rows(result)]
    assert rows[:2] == ["fgsm", "pgd-20 (focus)"] and (DIAGNOSTICS in rows) == diagnostics


def test_the_convergence_check_reads_the_focus_instead_of_attacking(tmp_path, digits_test):
    """incomplete_optimization takes the focus's breaks as its evidence: it flags them and spends nothing."""
    suite = _suite(tmp_path, '[focus]\nfraction = 1.0\nattacks = ["pgd-20"]\n')
    model = load_model("digits/linf/standard").module
    result = evaluate(model, digits_test, THREAT, suite=suite, n=60)
    (focus,) = [s for s in result.stages if s.escalated_by == "focus"]
    (check,) = [c for c in result.diagnostics.checks if c.check == "incomplete_optimization"]
    assert check.cost.forward == check.cost.backward == 0
    (flag,) = [f for f in result.flags if f.code == "incomplete_optimization"]
    assert flag.evidence["source"] == "suite" and flag.evidence["broken"] == focus.broken >= 2
    assert "focus" in flag.message


def test_closest_survivors_rank_by_margin_then_index():
    class Sample:
        def __init__(self, index, robust, margin):
            self.index, self.robust, self.margin = index, robust, margin

    class Result:
        samples = [Sample(5, True, 0.3), Sample(1, True, None), Sample(2, False, -1.0), Sample(4, True, 0.1),
                   Sample(3, True, 0.3), Sample(0, True, 2.0)]  # fmt: skip

    assert closest_survivors(Result, 0.2) == {3}  # ceil(0.2 x 5) = 1: the smallest margin
    assert closest_survivors(Result, 0.5) == {3, 4, 0}  # ties (0.3) by canonical index: 3 before 5
    assert closest_survivors(Result, 1.0) == {0, 1, 3, 4, 5}  # never attacked validly: last


def test_outcomes_keep_the_smallest_margin_and_merge_it():
    key = EvaluationKey(
        checkpoint_sha256=None,
        dataset="digits",
        threat="linf",
        eps=0.3,
        seed=0,
        subset_sha256="ab" * 32,
        suite_name="custom",
        suite_version=None,
    )
    identity = {"key": key, "model": "m", "n": 3, "suite": {"attacks": ["a", "b"]}, "eot_samples": 1}
    left, right = Outcome.start([3, 1], [0, 0], **identity), Outcome.start([2], [1], **identity)
    for outcome in (left, right):
        outcome.clean_correct = [True] * len(outcome.indices)
    left.note_margin(0, 0.5)
    left.note_margin(0, 0.7)  # a later, larger margin does not replace it
    left.note_margin(1, float("nan"))  # a rejected output says nothing
    right.note_margin(0, -0.2)
    assert left.margin == [0.5, None]
    again = Outcome.from_dict(left.to_dict())
    assert again.margin == [0.5, None]
    saved = left.to_dict()
    del saved["margin"]  # a state written before margins were kept
    assert Outcome.from_dict(saved).margin == [None, None]
    assert merge_outcomes([left, right]).margin == [None, -0.2, 0.5]  # canonical order 1, 2, 3


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('[focus]\nfraction = 0\nattacks = ["pgd-20"]\n', r"fraction must be in \(0, 1\]"),
        ('[focus]\nfraction = "a tenth"\nattacks = ["pgd-20"]\n', "fraction must be a number"),
        ("[focus]\nfraction = 0.1\n", "focus must be a table with fraction"),
        ('focus = "pgd-20"\n', "focus must be a table with fraction"),
        ('[focus]\nfraction = 0.1\nattacks = ["pgd-2O"]\n', "pgd-2O"),
    ],
)
def test_a_bad_focus_is_one_clear_error(tmp_path, body, message, capsys):
    suite = _suite(tmp_path, body)
    with pytest.raises(RobenchError, match=message):
        load_suite(suite)
    args = ["evaluate", "--model", "digits/linf/standard", "--suite", suite, "-n", "10", "--no-diagnostics"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and suite in err


def test_focus_names_code_only_with_the_opt_in(tmp_path):
    suite = _suite(tmp_path, '[focus]\nfraction = 0.5\nattacks = ["robench.attacks.fgsm:FGSM"]\n')
    with pytest.raises(RobenchError, match="names code to run"):
        load_suite(suite)
    assert load_suite(suite, trust_code=True).focus == Focus(0.5, ("robench.attacks.fgsm:FGSM",))
    with pytest.raises(AttackError, match="lists no attacks"):
        Focus(0.5, ())
