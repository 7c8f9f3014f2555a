"""Who handles what: state files per rank, and training batches split across ranks without repeats."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from robench.distributed.runtime import DistContext
from robench.distributed.sharding import local_batch, shard_state_path, usable_epoch_length
from robench.engine.evaluation import shard_positions
from robench.engine.settings import BLOCK_SIZE
from robench.errors import RobenchError
from robench.training.ranks import TrainingRanks


@pytest.mark.parametrize(("n", "world"), [(60, 2), (61, 4), (3, 8), (300, 2), (330, 3)])
def test_evaluation_shards_partition_the_points_without_padding(n, world):
    shards = [shard_positions(n, rank, world, BLOCK_SIZE) for rank in range(world)]
    assert sorted(p for shard in shards for p in shard) == list(range(n))
    assert max(map(len, shards)) - min(map(len, shards)) <= BLOCK_SIZE
    for shard in shards:  # whole blocks only: AutoAttack and Square see the same blocks for any world size
        blocks = {p // BLOCK_SIZE for p in shard}
        assert sum(len(range(b * BLOCK_SIZE, min(n, (b + 1) * BLOCK_SIZE))) for b in blocks) == len(shard)


def test_state_files_are_per_rank_and_name_the_world_size():
    assert shard_state_path("out/r.json.state", 1, 4) == Path("out/r.json.rank1-of-4.state")
    assert shard_state_path("out/r.json.rank1-of-4.state", 1, 4) == Path("out/r.json.rank1-of-4.state")
    assert shard_state_path("out/r.json.rank0-of-4.state", 3, 4) == Path("out/r.json.rank3-of-4.state")
    assert shard_state_path("out/r.rank0-of-2.json", 1, 4) == Path("out/r.rank0-of-2.rank1-of-4.json")
    assert shard_state_path("out/r.json.state", 0, 1) == Path("out/r.json.state")
    assert shard_state_path(None, 0, 2) is None


def _epoch(ranks_of_world: list[TrainingRanks], n: int, batch_size: int) -> list[list[int]]:
    order = torch.randperm(n, generator=torch.Generator().manual_seed(0))
    seen: list[list[int]] = [[] for _ in ranks_of_world]
    steps = {r.steps_per_epoch(n, batch_size) for r in ranks_of_world}
    assert len(steps) == 1  # every rank takes the same number of steps (DDP lockstep)
    for step in range(steps.pop()):
        for rank, ranks in enumerate(ranks_of_world):
            seen[rank] += ranks.batch(order[step * batch_size : (step + 1) * batch_size]).tolist()
    return seen


def test_training_ranks_see_each_sample_at_most_once_and_equally_many():
    world = [TrainingRanks(DistContext(rank, 3), "cpu") for rank in range(3)]
    seen = _epoch(world, n=100, batch_size=12)  # 8 full batches + a tail of 4, trimmed to 3
    assert [len(s) for s in seen] == [33, 33, 33]
    flat = [i for s in seen for i in s]
    assert len(set(flat)) == len(flat) == usable_epoch_length(100, 12, 3) == 99
    # alone, the whole epoch in the same batches
    assert (
        _epoch([TrainingRanks(DistContext(), "cpu")], n=100, batch_size=12)[0]
        == torch.randperm(100, generator=torch.Generator().manual_seed(0)).tolist()
    )


def test_a_global_batch_is_split_into_equal_contiguous_chunks():
    batch = torch.arange(8)
    assert [local_batch(batch, r, 4).tolist() for r in range(4)] == [[0, 1], [2, 3], [4, 5], [6, 7]]
    with pytest.raises(RobenchError, match="divisible by the 3 ranks"):
        usable_epoch_length(100, 64, 3)
