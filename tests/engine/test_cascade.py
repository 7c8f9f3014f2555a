"""Cascade vs independent mode with scripted attacks whose outcomes are known in advance."""

from __future__ import annotations

import pytest
from engine_toys import THREAT, WRONG, Scripted, ToyModel, toy_dataset

from robench.pipeline.evaluate import evaluate

N = 20
ALL = set(range(100, 100 + N))
A, B, C = {100, 101, 102, 103}, {101, 104, 105}, {104, 106, 119}


def _suite(data):
    return [Scripted(THREAT, "a", A, data), Scripted(THREAT, "b", B, data), Scripted(THREAT, "c", C, data)]


def test_cascade_attacks_only_survivors_and_takes_worst_case():
    data = toy_dataset(N)
    attacks = _suite(data)
    result = evaluate(ToyModel(), data, THREAT, suite=attacks, diagnostics=False, batch_size=6)
    correct = ALL - WRONG
    assert sorted(attacks[0].seen) == sorted(correct)
    assert sorted(attacks[1].seen) == sorted(correct - A)
    assert sorted(attacks[2].seen) == sorted(correct - A - B)
    first = {100: "a", 101: "a", 102: "a", 104: "b", 105: "b", 106: "c", 119: "c"}
    by_index = {s.index: s for s in result.samples}
    for index in ALL:
        sample = by_index[index]
        assert sample.clean_correct == (index not in WRONG)
        assert sample.broken_by == first.get(index)
        assert sample.robust == (index in correct and index not in A | B | C)
    assert result.clean_acc == pytest.approx(18 / N)
    assert [s.attacked for s in result.stages] == [18, 15, 13]
    assert [s.broken for s in result.stages] == [3, 2, 2]
    assert [s.robust_acc for s in result.stages] == pytest.approx([15 / N, 13 / N, 11 / N])
    assert result.robust_acc == pytest.approx(11 / N)
    assert result.mode == "cascade" and result.suite["attacks"] == ["a", "b", "c"]


def test_independent_runs_every_attack_on_every_clean_point():
    data = toy_dataset(N)
    attacks = _suite(data)
    result = evaluate(ToyModel(), data, THREAT, suite=attacks, diagnostics=False, independent=True)
    correct = ALL - WRONG
    for attack in attacks:
        assert sorted(attack.seen) == sorted(correct)
    assert [s.attacked for s in result.stages] == [18, 18, 18]
    assert [s.broken for s in result.stages] == [3, 3, 3]
    assert [s.robust_acc for s in result.stages] == pytest.approx([15 / N] * 3)  # each attack's own accuracy
    assert result.robust_acc == pytest.approx(11 / N)  # per-point worst case, not min of the means
    by_index = {s.index: s for s in result.samples}
    assert by_index[101].broken_by == "a" and by_index[104].broken_by == "b"
    assert result.mode == "independent"
