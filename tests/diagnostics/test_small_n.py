"""Accuracy comparisons decided by exact tests at a stated level: at a handful of points a gap is a
warning ("too few points to decide"), a clean accuracy at chance is an error, and a model finding is
shown beside a verdict it leaves alone."""

from __future__ import annotations

import pytest
from broken_models import THREAT

from robench.core.record import EvaluationResult, Flag
from robench.core.stats import SIGNIFICANCE, binomial_sf, mcnemar_p
from robench.diagnostics import DiagnosticContext, run_diagnostics
from robench.diagnostics.catalog import check_of, refresh_findings
from robench.pipeline.evaluate import evaluate


def test_exact_tests_known_answers():
    assert mcnemar_p(2, 0) == pytest.approx(0.25)  # two discordant points, both one way: 1/4
    assert mcnemar_p(5, 0) == pytest.approx(1 / 32)
    assert mcnemar_p(3, 3) == pytest.approx(42 / 64)  # P(X >= 3), X ~ Bin(6, 1/2)
    assert mcnemar_p(0, 0) == 1.0
    # P(X >= 3), X ~ Bin(10, 0.1) = 1 - (0.9^10 + 10 * 0.1 * 0.9^9 + 45 * 0.01 * 0.9^8)
    assert binomial_sf(3, 10, 0.1) == pytest.approx(0.0701908, abs=1e-7)
    assert binomial_sf(0, 10, 0.1) == 1.0 and SIGNIFICANCE == 0.05


def test_a_gap_chance_explains_is_a_warning_and_a_clear_one_an_error():
    check = check_of("catastrophic_overfitting")
    undecided = check.decide("FGSM 50 % vs PGD-20 25 %.", {"points": 7}, mcnemar_p(2, 0))
    assert (undecided.severity, undecided.finding) == ("warning", "model")
    assert undecided.message.startswith("Too few points to decide (p = 0.25, not below 0.05")
    assert undecided.evidence == {"points": 7, "p_value": 0.25, "level": 0.05}
    decided = check.decide("FGSM 62 % vs PGD-20 1 %.", {"points": 182}, mcnemar_p(124, 0))
    assert (decided.severity, decided.finding) == ("error", "model")
    assert decided.message == "FGSM 62 % vs PGD-20 1 %."


@pytest.mark.slow
def test_the_pgd_zoo_model_on_8_points_raises_no_error_flag():
    """The issue's case: the quick suite's FGSM 50 % vs PGD-20 25 % on 7 points is two points."""
    result = evaluate("digits/linf/pgd", n=8, suite="quick")
    assert not [f for f in result.flags if f.severity == "error"], result.flags
    (flag,) = [f for f in result.flags if f.code == "catastrophic_overfitting"]
    assert flag.severity == "warning" and flag.evidence["p_value"] >= SIGNIFICANCE
    assert result.verdict == "reliable"


def _checked(record: EvaluationResult, data, model, checks: list[str]) -> list[Flag]:
    return run_diagnostics(
        DiagnosticContext(model=model, data=data, threat=THREAT, result=record), checks=checks
    ).flags


@pytest.mark.parametrize(
    ("correct", "severity"),
    [(0, "error"), (1, "error"), (2, "warning"), (6, None)],
    ids=["none-correct", "at-chance", "above-but-undecided", "clearly-above"],
)
def test_chance_level_from_the_record(tiny_net, run_evaluation, digits_test, correct, severity):
    """10 points, 10 classes: 1 correct is chance itself; 2 could still be guessing (p = 0.26)."""
    record = run_evaluation(tiny_net, suite=["fgsm"], n=10, diagnostics=False)
    for k, sample in enumerate(record.samples):
        sample.clean_correct = sample.robust = k < correct
    flags = _checked(record, digits_test.subset(10, 0), tiny_net, ["chance_level"])
    assert [f.severity for f in flags] == ([severity] if severity else [])
    if severity == "error":
        assert "at or below chance (10.0% for 10 classes)" in flags[0].message


def test_old_records_get_their_model_findings_on_read():
    flag = {"code": "catastrophic_overfitting", "severity": "error", "message": "old"}  # no "finding" yet
    record = EvaluationResult.from_dict(
        {"schema_version": 3, "model": "m", "checkpoint_sha256": None, "dataset": "digits", "split": "test",
         "threat": "linf", "eps": 0.3, "seed": 0, "subset_sha256": "", "mode": "cascade", "stages": [],
         "suite": {"name": "custom", "version": None, "attacks": []}, "samples": [], "flags": [flag],
         "diagnostics": {"checks": []}, "verdict": "unreliable"}
    )  # fmt: skip
    assert record.verdict == "unreliable"  # an evaluation finding, as the record was written
    refresh_findings(record)
    assert (record.flags[0].finding, record.verdict) == ("model", "reliable")
