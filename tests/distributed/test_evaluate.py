"""Sharded evaluation on 2 gloo ranks: the single-process per-sample outcomes, or a clean failure."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from dist_ranks import free_port, loopback_env, run_ranks
from dist_workers import (
    SUITE,
    THREAT,
    digits_cnn,
    evaluate_digits,
    fail_after_gathering_then_rerun,
    slow_then_silent_peer,
)

from robench.data import load_dataset
from robench.engine.outcome import Outcome
from robench.pipeline.evaluate import evaluate

N, SEED = 300, 3  # two blocks of the sharding unit (256): both ranks get points
HERE = Path(__file__).parent


def torchrun(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """``torchrun --nproc-per-node 2 -m robench ...`` on loopback, as a user would start it."""
    env = os.environ | loopback_env(2, free_port()) | {"PYTHONPATH": str(HERE)}
    for name in ("RANK", "LOCAL_RANK", "WORLD_SIZE"):
        env.pop(name, None)
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2"]
    command += ["--master-addr", "127.0.0.1", "--master-port", env["MASTER_PORT"], "-m", "robench", *args]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def evaluate_args(checkpoint: Path, arch: str, out: Path) -> list[str]:
    suite = out.parent / "suite.toml"
    suite.write_text(f'name = "tiny"\nversion = "1"\nattacks = {json.dumps(SUITE)}\n')
    return [
        "evaluate", "--checkpoint", str(checkpoint), "--arch", f"dist_workers:{arch}",
        "--dataset", "digits", "--threat", "linf", "--eps", str(THREAT.eps), "--suite", str(suite),
        "-n", str(N), "--seed", str(SEED), "--batch-size", "16", "--no-diagnostics", "--out", str(out),
    ]  # fmt: skip


@pytest.fixture(scope="module")
def single(digits_weights):
    model = digits_cnn(digits_weights)
    data = load_dataset("digits")
    return evaluate(model, data, THREAT, suite=SUITE, n=N, seed=SEED, batch_size=7, diagnostics=False)


def test_torchrun_evaluate_reproduces_the_single_process_outcomes(single, digits_checkpoint, tmp_path):
    out = tmp_path / "dist.json"
    run = torchrun(*evaluate_args(digits_checkpoint, "tiny_cnn", out), cwd=tmp_path)
    assert run.returncode == 0, run.stderr[-3000:]
    merged = json.loads(out.read_text())
    one = single.to_dict()
    # a meaningful comparison: points broken by each stage, others robust
    assert 0 < one["robust_acc"] < one["clean_acc"]
    assert all(stage["broken"] > 0 for stage in one["stages"])
    # per-point outcomes exactly; the margins (a float measurement) up to the batch size's rounding
    assert [_without_margin(s) for s in merged["samples"]] == [_without_margin(s) for s in one["samples"]]
    margins = [(s["margin"], t["margin"]) for s, t in zip(merged["samples"], one["samples"], strict=True)]
    assert all((a is None) == (b is None) for a, b in margins)
    assert [a for a, _ in margins if a is not None] == pytest.approx(
        [b for _, b in margins if b is not None], abs=1e-4
    )
    for key in ("n", "clean_acc", "robust_acc", "subset_sha256", "seed"):
        assert merged[key] == one[key], key
    for mine, theirs in zip(merged["stages"], one["stages"], strict=True):
        for key in ("attack", "robust_acc", "attacked", "broken", "rejected"):
            assert mine[key] == theirs[key], (mine["attack"], key)
        assert (mine["cost"]["forward"], mine["cost"]["backward"]) == (
            theirs["cost"]["forward"],
            theirs["cost"]["backward"],
        ), mine["attack"]
    dist = merged["extra"]["distributed"]
    assert dist["world_size"] == 2 and dist["shard_sizes"] == [256, 44]
    # seconds are the slowest rank's wall clock, not a sum over ranks
    seconds = merged["clean_cost"]["seconds"] + sum(stage["cost"]["seconds"] for stage in merged["stages"])
    assert max(dist["seconds_per_rank"]) <= seconds + 1e-3 <= sum(dist["seconds_per_rank"]) + 2e-3
    # the preparation's entries as in a single-process record; the probe ran on both ranks
    assert merged["batch_size"] == 16
    probe, one_probe = merged["probe"], one["probe"]
    assert (probe["randomized"], probe["points"]) == (False, one_probe["points"])
    assert probe["forward"] == 2 * one_probe["forward"] > 0
    # the per-rank resume files are gone once the run has succeeded
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dist.json", "suite.toml"]


def _without_margin(sample: dict) -> dict:
    return {key: value for key, value in sample.items() if key != "margin"}


def test_torchrun_evaluate_fails_as_a_whole_when_one_rank_crashes(digits_checkpoint, tmp_path):
    out = tmp_path / "dist.json"
    run = torchrun(*evaluate_args(digits_checkpoint, "crashing_cnn", out), cwd=tmp_path)
    assert run.returncode != 0
    assert "robench: error: the evaluation failed on rank 1 of 2: RuntimeError: simulated crash" in run.stderr
    assert "nothing was written or stored" in run.stderr
    assert not out.exists()


def test_a_rank_that_crashes_mid_run_keeps_every_shard_progress(digits_weights, tmp_path):
    state = tmp_path / "run.json"
    results = run_ranks(evaluate_digits, args=(digits_weights, N, SEED, str(state), 1))
    status0, (kind0, message0, _) = results[0]
    assert (status0, kind0) == ("error", "PeerFailedError")
    assert "the evaluation failed on rank 1 of 2: RuntimeError: simulated crash on this rank" in message0
    assert results[1][0] == "error" and results[1][1][:2] == ("RuntimeError", "simulated crash on this rank")
    # rank 0 finished its shard but keeps its progress until every rank succeeds; rank 1 kept its partial one
    rank0 = json.loads((tmp_path / "run.rank0-of-2.json").read_text())
    rank1 = json.loads((tmp_path / "run.rank1-of-2.json").read_text())
    finished = Outcome.from_dict(rank0)
    points = range(len(finished.indices))
    assert not any(finished.needs_attack(stage, p) for stage in range(len(SUITE)) for p in points)
    assert rank1["clean_correct"] is not None
    assert rank0["shard"] == [0, 2] and rank1["shard"] == [1, 2]
    assert not state.exists()


@pytest.mark.slow
def test_ranks_wait_for_a_slow_peer_but_not_for_a_silent_one():
    results = run_ranks(slow_then_silent_peer, args=(2.0,))
    assert results[0][0] == "ok", results[0][1]
    first, waited, error = results[0][1]
    # a peer that keeps making progress is waited for, well beyond the timeout ...
    assert first == [0, 1] and waited > 2 * 2.0
    # ... a silent one fails the run after the timeout instead of hanging it
    assert error == (
        "PeerFailedError",
        "the evaluation failed: rank 1 of 2 has shown no progress for 2 s (ROBENCH_DIST_TIMEOUT); "
        "nothing was written or stored",
    )


def test_a_failure_on_rank_0_after_gathering_keeps_every_shard_progress(digits_weights, tmp_path):
    state = tmp_path / "run.json"
    results = run_ranks(fail_after_gathering_then_rerun, args=(digits_weights, N, SEED, str(state)))
    assert [status for status, _ in results.values()] == ["ok", "ok"], results
    error, kept, forwarded0, record, left = results[0][1]
    assert error == "simulated failure after gathering" and results[1][1][0] is None
    assert kept == ["run.rank0-of-2.json", "run.rank1-of-2.json"]  # both shards' finished progress
    # the rerun resumed both finished shards: each rank only ran the randomness probe
    probe_forwards = record["probe"]["forward"]
    assert forwarded0 + results[1][1][2] == probe_forwards > 0
    assert record["n"] == N and record["robust_acc"] < record["clean_acc"]
    assert left == [] and results[1][1][4] == []
