"""DDP training on 2 gloo ranks: ranks stay in lockstep, rank 0 writes, an interrupted run resumes exactly."""

from __future__ import annotations

import pytest
from dist_ranks import run_ranks
from dist_workers import train_full_and_resumed

from robench.errors import RobenchError
from robench.models.checkpoint import sha256_file
from robench.training.ranks import TrainingRanks


@pytest.mark.slow
def test_two_rank_training_completes_and_resumes_exactly(tmp_path):
    results = run_ranks(train_full_and_resumed, args=(str(tmp_path),), timeout=120)
    assert [status for status, _ in results.values()] == ["ok", "ok"], results
    rank0, rank1 = results[0][1], results[1][1]

    def logged(rows):
        return [{k: v for k, v in row.items() if k != "seconds"} for row in rows]

    for run in ("full", "resumed"):
        # DDP keeps the weights of both ranks identical, and both ranks log the same (summed) numbers
        assert rank0[run][0] == rank1[run][0]
        assert logged(rank0[run][1]) == logged(rank1[run][1])
    # the resumed run ends exactly where the uninterrupted one does
    assert rank0["resumed"][0] == rank0["full"][0]
    assert logged(rank0["resumed"][1]) == logged(rank0["full"][1])
    full_rows = rank0["full"][1]
    assert len(full_rows) == 2 and full_rows[-1]["train_acc"] > 0
    # rank 0 wrote the checkpoint, card and logs; its hash is the one the summary records
    final = tmp_path / "full" / "m.safetensors"
    assert sha256_file(final) == rank0["full"][2].checkpoints["final_sha256"]
    assert (tmp_path / "cut" / "m.toml").exists() and not (tmp_path / "cut" / "m.resume.json").exists()


def test_sync_bn_on_cpu_is_refused_before_any_work():
    with pytest.raises(RobenchError, match="--sync-bn needs CUDA devices"):
        TrainingRanks.join("cpu", sync_bn=True)
