"""Scale-out on torch.distributed: sharded evaluation and DDP training, started with torchrun.

``torchrun --nproc-per-node N -m robench evaluate ...`` shards the evaluation points across ranks by
index, every rank runs the cascade on its shard, rank 0 merges the per-point outcomes and writes the
record. Per-point seeds make the per-sample outcomes identical to a single-process run for any world
size. ``robench train`` under torchrun trains with DistributedDataParallel.
"""

from __future__ import annotations

from robench.distributed.collect import (
    PeerFailedError,
    barrier,
    broadcast_from_main,
    check_all_ok,
    run_and_gather,
)
from robench.distributed.runtime import (
    DistContext,
    current,
    launched_distributed,
    rank_device,
    refuse_under_torchrun,
    setup,
    teardown,
)
from robench.distributed.sharding import rank_state_path, shard_state_path

__all__ = [
    "DistContext",
    "PeerFailedError",
    "barrier",
    "broadcast_from_main",
    "check_all_ok",
    "current",
    "evaluate_distributed",
    "launched_distributed",
    "rank_device",
    "rank_state_path",
    "refuse_under_torchrun",
    "run_and_gather",
    "setup",
    "shard_state_path",
    "teardown",
]


def __getattr__(name: str):
    if name == "evaluate_distributed":
        from robench.distributed.evaluate import evaluate_distributed

        return evaluate_distributed
    raise AttributeError(f"module 'robench.distributed' has no attribute '{name}'")
