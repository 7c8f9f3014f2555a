"""Entry files and the ranking rule."""

from __future__ import annotations

import json

import pytest

from robench.core.record import Flag
from robench.errors import RobenchError
from robench.leaderboard.entries import load_entries, make_entry, write_entry
from robench.leaderboard.ranking import ranking
from robench.leaderboard.table import board_frame

CARD = {"name": "x", "architecture": "small_cnn", "recipe": "pgd", "source": "robench", "sha256": "00" * 32}


def _co_flag(pgd_acc: float, **extra) -> Flag:
    return Flag(
        "catastrophic_overfitting",
        "error",
        "FGSM far above PGD",
        {"fgsm_acc": 0.8, "pgd20_acc": pgd_acc, **extra},
    )


def test_entry_file_is_the_record_without_samples_plus_the_card(board_root, make_result):
    result = make_result("pgd", 0.95, [0.6, 0.55, 0.5, 0.5, 0.45, 0.45])
    path = write_entry(make_entry("pgd", result, CARD))
    assert path == board_root / "digits" / "linf" / "entries" / "pgd.json"
    data = json.loads(path.read_text())
    assert "samples" not in data
    assert isinstance(data["robust_acc"], float) and data["robust_acc"] == 0.45
    assert isinstance(data["n"], int) and data["stages"][1]["attack"] == "pgd-7"
    assert data["model_card"]["recipe"] == "pgd" and data["name"] == "pgd"
    (loaded,) = load_entries("digits", "linf")
    assert loaded.result.to_dict(samples=False) == result.to_dict(samples=False)
    assert loaded.result.samples == []


def test_a_malformed_or_misplaced_entry_is_a_one_line_error(board_root, make_result):
    folder = board_root / "digits" / "linf" / "entries"
    folder.mkdir(parents=True)
    (folder / "bad.json").write_text("{not json")
    with pytest.raises(RobenchError, match="bad.json is not valid JSON"):
        load_entries("digits", "linf")
    (folder / "bad.json").unlink()
    write_entry(make_entry("pgd", make_result("pgd", 0.9, [0.5] * 6), CARD))
    other = board_root / "digits" / "l2" / "entries"
    other.mkdir(parents=True)
    (folder / "pgd.json").rename(other / "pgd.json")
    with pytest.raises(RobenchError, match="is for digits/linf, not digits/l2"):
        load_entries("digits", "l2")


def test_entry_names_are_checked(make_result):
    with pytest.raises(RobenchError, match="is not a name: use 1 to 100 letters, digits"):
        make_entry("../evil", make_result("pgd", 0.9, [0.5] * 6), CARD)


def test_an_unreliable_entry_is_ranked_by_its_lower_reliable_fallback(make_result):
    honest = make_result("pgd", 0.9, [0.6, 0.55, 0.5, 0.5, 0.4, 0.4])
    # reports 70 % worst case, but a diagnostic measured 5 % at the same eps
    flattering = make_result("masked", 0.95, [0.7] * 6, verdict="unreliable", flags=(_co_flag(0.05),))
    weak = make_result("standard", 1.0, [0.1, 0, 0, 0, 0, 0])
    assert ranking(flattering).accuracy == 0.05
    assert ranking(flattering).basis == "catastrophic_overfitting: pgd20_acc"
    entries = [make_entry(r.model.split("/")[-1], r, CARD) for r in (flattering, weak, honest)]
    frame = board_frame(entries)
    assert list(frame["model"]) == ["pgd", "masked", "standard"]
    assert list(frame["rank"]) == [1, 2, 3]
    assert frame.loc[frame["model"] == "masked", "robust_acc"].item() == 0.7  # shown, but not ranked by


def test_fallbacks_ignore_other_eps_clean_numbers_and_reliable_entries(make_result):
    other_eps = make_result("a", 0.9, [0.7] * 6, verdict="unreliable", flags=(_co_flag(0.01, eps=0.6),))
    assert ranking(other_eps).accuracy == 0.7  # measured at another eps: not comparable
    clean_flag = Flag("robust_above_clean", "error", "m", {"clean_acc": 0.1})
    clean_only = make_result("b", 0.9, [0.7] * 6, verdict="unreliable", flags=(clean_flag,))
    assert ranking(clean_only).accuracy == 0.7
    reliable = make_result("c", 0.9, [0.7] * 6, flags=(Flag("info_only", "warning", "m", {"pgd_acc": 0.1}),))
    assert ranking(reliable).accuracy == 0.7


def test_ties_put_reliable_first_then_higher_clean_accuracy(make_result):
    results = [
        make_result("u", 0.99, [0.5] * 6, verdict="unreliable"),
        make_result("low_clean", 0.8, [0.5] * 6),
        make_result("high_clean", 0.9, [0.5] * 6),
    ]
    frame = board_frame([make_entry(r.model.split("/")[-1], r, CARD) for r in results])
    assert list(frame["model"]) == ["high_clean", "low_clean", "u"]


def test_an_entry_file_that_says_the_same_is_kept_timings_and_date_aside(board_root, make_result):
    """A rerun that reproduces the numbers (new seconds, date, versions) changes no committed file."""
    first = make_result("pgd", 0.9, [0.6, 0.55, 0.5, 0.5, 0.45, 0.45])
    path = write_entry(make_entry("pgd", first, CARD))
    before = path.read_bytes()
    rerun = make_result("pgd", 0.9, [0.6, 0.55, 0.5, 0.5, 0.45, 0.45])
    rerun.created, rerun.env = "2027-01-01T00:00:00+00:00", {"torch": "9.9", "git": "f" * 40}
    for stage in rerun.stages:
        stage.cost.seconds += 7.0
    assert write_entry(make_entry("pgd", rerun, CARD)) == path and path.read_bytes() == before
    rerun.samples[0].robust = False  # another number: the file is rewritten
    write_entry(make_entry("pgd", rerun, CARD))
    assert json.loads(path.read_text())["robust_acc"] == pytest.approx(0.4)
    assert json.loads(path.read_text())["created"] == "2027-01-01T00:00:00+00:00"
