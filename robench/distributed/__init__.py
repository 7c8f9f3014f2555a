"""torch.distributed primitives: joining the torchrun process group, collectives that fail cleanly on
every rank, and who handles which points or samples. The sharded evaluation that uses them lives in
``robench.pipeline.distributed``, DDP training in ``robench.training.ranks``."""

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
    "launched_distributed",
    "rank_device",
    "rank_state_path",
    "refuse_under_torchrun",
    "run_and_gather",
    "setup",
    "shard_state_path",
    "teardown",
]
