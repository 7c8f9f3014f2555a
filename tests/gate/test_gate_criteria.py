"""Gate criteria on records with known counts: thresholds, confidence modes, baselines, reliability."""

from __future__ import annotations

import json
import warnings

import pytest

from robench.core.record import EvaluationResult, Flag
from robench.core.stats import proportion_interval
from robench.errors import RobenchError
from robench.gate.baseline import load_baseline
from robench.gate.criteria import Thresholds, check_result


def by_name(criteria):
    return {c.name: c for c in criteria}


def test_point_mode_compares_the_measured_accuracy(make_result):
    result = make_result(n=100, clean=90, robust=40)
    out = by_name(check_result(result, Thresholds(min_clean=0.9, min_robust=0.41)))
    assert out["clean accuracy"].passed and out["clean accuracy"].measured == pytest.approx(0.9)
    assert not out["robust accuracy"].passed
    assert out["robust accuracy"].compared == pytest.approx(0.40)


def test_upper_mode_fails_only_when_clearly_below(make_result):
    # 40/100: exact 95 % interval [0.3033, 0.5028]
    result = make_result(n=100, clean=90, robust=40)
    lenient = Thresholds(min_robust=0.5, confidence="upper")
    assert check_result(result, lenient)[0].passed
    assert not check_result(result, Thresholds(min_robust=0.51, confidence="upper"))[0].passed
    strict = Thresholds(min_robust=0.31, confidence="lower")
    assert not check_result(result, strict)[0].passed
    assert check_result(result, Thresholds(min_robust=0.30, confidence="lower"))[0].passed


def test_summary_line_shows_value_threshold_interval_and_status(make_result):
    line = check_result(make_result(n=100, robust=40), Thresholds(min_robust=0.5))[0].summary_line()
    assert line.startswith("FAIL  robust accuracy")
    assert "0.400 >= 0.500" in line and "95% CI [0.303, 0.503]" in line and "n=100" in line


def test_reliability_fails_on_error_flags_and_on_unchecked(make_result):
    flagged = make_result(
        flags=(
            Flag("gradient_masking", "error", "zero gradients"),
            Flag("slow_loss", "warning", "loss still moving"),
        ),
        verdict="unreliable",
    )
    crit = check_result(flagged, Thresholds(require_reliable=True))[0]
    assert not crit.passed and "gradient_masking" in crit.detail and "slow_loss" not in crit.detail
    warned = make_result(flags=(Flag("slow_loss", "warning", "x"),))
    assert check_result(warned, Thresholds(require_reliable=True))[0].passed
    assert not check_result(make_result(verdict="unchecked"), Thresholds(require_reliable=True))[0].passed


def test_drop_against_a_baseline_file(make_result, tmp_path):
    baseline = make_result(n=100, robust=45)
    path = tmp_path / "entry.json"
    path.write_text(baseline.to_json(samples=False))  # a leaderboard entry: record without samples
    loaded = load_baseline(path)
    assert loaded.robust_acc == pytest.approx(0.45) and loaded.samples == []
    ok = check_result(make_result(robust=42), Thresholds(max_drop=0.05), loaded)[0]
    assert ok.passed and ok.measured == pytest.approx(0.03)
    bad = check_result(make_result(robust=38), Thresholds(max_drop=0.05), loaded)[0]
    assert not bad.passed and "0.070 <= 0.050" in bad.summary_line()
    # the drop interval is the accuracy interval mirrored around the baseline
    iv = proportion_interval(38, 100)  # [0.2847, 0.4829]
    assert f"CI [{0.45 - iv.high:.3f}, {0.45 - iv.low:.3f}]" in bad.summary_line()
    assert "[-0.033, 0.165]" in bad.summary_line()


def test_baseline_must_match_threat_and_eps(make_result):
    with pytest.raises(RobenchError, match="eps"):
        check_result(make_result(eps=0.3), Thresholds(max_drop=0.1), make_result(eps=0.2))
    with pytest.raises(RobenchError, match="--baseline"):
        check_result(make_result(), Thresholds(max_drop=0.1), None)
    other_suite = make_result(suite={"name": "standard", "version": 1})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_result(make_result(), Thresholds(max_drop=0.1), other_suite)
    assert any("suite" in str(w.message) for w in caught)


@pytest.mark.parametrize(
    "content",
    [
        "not json",
        "[1, 2]",
        json.dumps({"model": "x"}),
        json.dumps({"dataset": "digits", "threat": "linf", "eps": 0.3, "n": 10, "robust_acc": "45%"}),
    ],
)
def test_unusable_baselines_are_user_errors(tmp_path, content):
    path = tmp_path / "b.json"
    path.write_text(content)
    with pytest.raises(RobenchError, match="baseline"):
        load_baseline(path)
    with pytest.raises(RobenchError, match="neither a file"):
        load_baseline(tmp_path / "missing.json")


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"min_robust": 45.0},
        {"min_clean": -0.1},
        {"min_robust": 0.3, "confidence": "mean"},
        {"min_robust": 0.3, "level": 95},
    ],
)
def test_bad_thresholds_are_user_errors(kwargs):
    with pytest.raises(RobenchError):
        Thresholds(**kwargs).check_given()  # bad values fail at construction, no criterion at the check


def test_baseline_by_leaderboard_entry_id(make_result, tmp_path, monkeypatch):
    from robench.leaderboard.entries import Entry

    entries = tmp_path / "digits" / "linf" / "entries"
    entries.mkdir(parents=True)
    entry = Entry(name="pgd", result=make_result(robust=37), card={"recipe": "pgd"})
    (entries / "pgd.json").write_text(json.dumps(entry.to_dict()))
    monkeypatch.setenv("ROBENCH_LEADERBOARDS", str(tmp_path))
    baseline = load_baseline("digits/linf/pgd")
    assert baseline.robust_acc == pytest.approx(0.37) and baseline.model == "digits/linf/pgd"
    with pytest.raises(RobenchError, match="neither a file nor a leaderboard entry"):
        load_baseline("digits/linf/trades")


def test_a_record_file_claiming_more_than_its_samples_is_gated_on_its_samples(make_result):
    data = make_result(n=100, clean=90, robust=40).to_dict()
    data["robust_acc"] = 0.45  # a results file edited to claim more robust points than its samples show
    with pytest.warns(UserWarning, match="disagree with its per-sample outcomes"):
        result = EvaluationResult.from_dict(data)
    crit = check_result(result, Thresholds(min_robust=0.42))[0]
    assert not crit.passed and crit.interval.successes == 40
