"""Who handles what: per-rank resume state of evaluation shards, per-rank parts of training batches.

Evaluation points themselves are split by the engine (``robench.engine.evaluate.shard_positions``):
whole blocks of 256 consecutive positions (`block_size`) of the index-ordered evaluation subset,
dealt round-robin
(rank r of W takes blocks r, r+W, ...; blocks are also the unit on which AutoAttack and Square run, so
their per-call randomness is the same for any number of ranks). Every point is evaluated exactly once:
unlike torch's DistributedSampler, no rank is padded with repeated points (repeats would count twice in
the accuracy). Shard sizes differ by at most one block.
"""

from __future__ import annotations

import re
from pathlib import Path

import torch

from robench.errors import RobenchError


def shard_state_path(state_path: str | Path | None, rank: int, world_size: int) -> Path | None:
    """Per-rank resume file: ``run.json`` -> ``run.rank1-of-4.json``; from any rank's file of the same
    world size (``run.rank0-of-4.json``) too.

    The world size is part of the name because it decides the shards: a run resumed with another
    number of ranks starts its shards afresh instead of mixing up progress.
    """
    if state_path is None:
        return None
    path = Path(state_path)
    if world_size <= 1:
        return path
    base = re.sub(rf"\.rank\d+-of-{world_size}$", "", path.stem)
    return path.with_name(f"{base}.rank{rank}-of-{world_size}{path.suffix}")


def rank_state_path(state_path: str | Path) -> Path:
    """``shard_state_path`` for this process, from torchrun's environment (the path itself alone)."""
    from robench.distributed.runtime import current

    ctx = current()
    return shard_state_path(state_path, ctx.rank, ctx.world_size)


def usable_epoch_length(num_samples: int, batch_size: int, world_size: int) -> int:
    """Samples of one shuffled epoch that training uses under world_size ranks.

    Full global batches are kept whole; a final partial batch is trimmed to a multiple of world_size
    (at most world_size - 1 samples skipped per epoch, different ones every epoch as the order is
    reshuffled). Every rank then takes the same number of steps, which DDP needs to stay in lockstep.
    """
    if world_size <= 1:
        return num_samples
    if batch_size % world_size:
        raise RobenchError(
            f"--batch-size {batch_size} must be divisible by the {world_size} ranks "
            "(it is the global batch; each rank takes an equal part)"
        )
    full = num_samples - num_samples % batch_size
    tail = num_samples - full
    return full + tail - tail % world_size


def local_batch(global_batch: torch.Tensor, rank: int, world_size: int) -> torch.Tensor:
    """This rank's part of one global batch (contiguous chunks of equal size).

    With DDP averaging gradients over ranks, a step on the global batch equals the single-process step
    on the same samples (up to float rounding and per-rank BatchNorm statistics; see --sync-bn).
    """
    if world_size <= 1:
        return global_batch
    size = global_batch.shape[0]
    if size % world_size:
        raise ValueError(f"a global batch of {size} does not split across {world_size} ranks")
    part = size // world_size
    return global_batch[rank * part : (rank + 1) * part]
