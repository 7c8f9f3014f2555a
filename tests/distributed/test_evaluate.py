"""Sharded evaluation on 2 gloo ranks gives exactly the single-process record's per-sample outcomes."""

from __future__ import annotations

import json

import pytest
from dist_ranks import run_ranks
from dist_workers import SUITE, THREAT, digits_cnn, evaluate_digits, train_digits_cnn

from robench.data import load_dataset
from robench.engine.evaluate import evaluate
from robench.engine.outcome import Outcome

N = 60


@pytest.fixture(scope="module")
def weights():
    return train_digits_cnn()


@pytest.fixture(scope="module")
def single(weights):
    model = digits_cnn(weights)
    return evaluate(
        model, load_dataset("digits"), THREAT, suite=SUITE, n=N, seed=3, batch_size=7, diagnostics=False
    ).to_dict()


def test_two_ranks_reproduce_the_single_process_outcomes(weights, single):
    results = run_ranks(evaluate_digits, args=(weights, N, 3))
    assert results[1] == ("ok", None)
    status, merged = results[0]
    assert status == "ok", merged
    # a meaningful check: some points are broken by each stage, some survive
    assert 0 < single["robust_acc"] < single["clean_acc"]
    assert all(stage["broken"] > 0 for stage in single["stages"])
    assert merged["samples"] == single["samples"]
    for key in ("n", "clean_acc", "robust_acc", "subset_sha256", "seed", "suite"):
        assert merged[key] == single[key], key
    for mine, theirs in zip(merged["stages"], single["stages"], strict=True):
        for key in ("attack", "robust_acc", "attacked", "broken", "rejected", "forward", "backward"):
            assert mine[key] == theirs[key], (mine["attack"], key)
    dist = merged["extra"]["distributed"]
    assert dist["world_size"] == 2 and dist["shard_sizes"] == [30, 30]
    # seconds are the slowest rank's, not a sum over ranks
    assert merged["extra"]["total_cost"]["seconds"] == pytest.approx(max(dist["seconds_per_rank"]), abs=1e-3)


def test_a_rank_that_crashes_fails_the_run_and_keeps_shard_progress(weights, tmp_path):
    state = tmp_path / "run.json"
    results = run_ranks(evaluate_digits, args=(weights, N, 3, str(state), 1))
    status0, (kind0, message0, _) = results[0]
    assert (status0, kind0) == ("error", "PeerFailedError")
    assert "the evaluation failed on rank 1 of 2: RuntimeError: simulated crash on this rank" in message0
    assert results[1][0] == "error" and results[1][1][:2] == ("RuntimeError", "simulated crash on this rank")
    # rank 0 finished its shard but keeps its progress until every rank succeeds; rank 1 kept its partial one
    rank0 = json.loads((tmp_path / "run.rank0-of-2.json").read_text())
    rank1 = json.loads((tmp_path / "run.rank1-of-2.json").read_text())
    finished = Outcome.from_dict(rank0)
    assert not any(finished.needs_attack(k, p) for k in range(len(SUITE)) for p in range(len(finished.indices)))
    assert rank0["config"]["shard"] == [0, 2] and rank1["config"]["shard"] == [1, 2]
    assert not state.exists()
