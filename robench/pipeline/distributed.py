"""Sharded evaluation: every rank runs the cascade on its shard, rank 0 merges and returns the record.

Each rank prepares the evaluation (``robench.engine.evaluation.Evaluation``) and runs it on its shard
(whole blocks of points: ``Evaluation.run(state, shard=(rank, world))``). The per-point outcomes are
gathered on rank 0 only after every rank has reported success (``run_and_gather``); a failing rank makes
every rank raise, so nothing is written or stored. Per-point
seeds make the merged per-sample outcomes identical to a single-process run for any world size. In the
merged record, pass counts (forward, backward, attacked, broken, rejected, and the randomness probe's
forwards) are summed over ranks, and ``seconds`` (per stage, clean pass and total) is the maximum over
ranks: the wall clock of the slowest rank. Diagnostics run on rank 0, on the whole evaluation subset,
once the record is merged.

Resume is per shard: each rank keeps its own state (``run.rank1-of-4.json`` for ``state=run.json``).
Rank 0 clears every shard's state only once the merged record (with its diagnostics) is complete, so a
rerun after any failure, on any rank and at any point, continues every shard where it stopped.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from robench.core.record import EvaluationResult
from robench.distributed.collect import Heartbeat, run_and_gather
from robench.distributed.runtime import DistContext, setup
from robench.distributed.sharding import shard_state_path
from robench.engine.evaluate import merge_shards
from robench.engine.evaluation import Evaluation
from robench.engine.outcome import Outcome
from robench.engine.settings import RunSettings
from robench.engine.state import EvaluationState, FileState
from robench.errors import RobenchError
from robench.pipeline.evaluate import finish, prepare
from robench.pipeline.target import Target


class _ShardState:
    """The engine's EvaluationState for one shard, beating the heartbeat after every saved batch."""

    def __init__(self, inner: EvaluationState | None, heartbeat: Heartbeat) -> None:
        self.inner, self.heartbeat = inner, heartbeat

    def load(self) -> dict[str, Any] | None:
        return self.inner.load() if self.inner is not None else None

    def save(self, state: dict[str, Any]) -> None:
        if self.inner is not None:
            self.inner.save(state)
        self.heartbeat.beat()

    def clear(self) -> None:
        if self.inner is not None:
            self.inner.clear()


def rank_state(state: Any, ctx: DistContext, rank: int | None = None) -> EvaluationState | None:
    """The resume state of ``rank`` (default: this one): a per-rank file for a path or FileState."""
    rank = ctx.rank if rank is None else rank
    if state is None:
        return None
    if isinstance(state, (str, Path, FileState)):
        path = state.path if isinstance(state, FileState) else state
        return FileState(shard_state_path(path, rank, ctx.world_size))
    if not ctx.distributed:
        return state
    raise RobenchError(
        f"{type(state).__name__} cannot hold per-rank progress: pass a state file path to a distributed run"
    )


def evaluate_distributed(
    target: Target, run: RunSettings, *, diagnostics: bool = True, state: Any = None
) -> EvaluationResult | None:
    """``evaluate_target`` across the ranks of a torchrun launch (same record as one process); the pipeline
    calls it for a request under torchrun (``robench.pipeline.evaluate.run_request``).

    Returns the merged record on rank 0 and None on every other rank (only rank 0 writes or stores).
    """
    ctx = setup(run.device)
    heartbeat = Heartbeat()
    prepared: list[Evaluation] = []

    def run_shard() -> dict[str, Any]:
        prepared.append(prepare(target, run))
        shard_state = _ShardState(rank_state(state, ctx), heartbeat)
        outcome = prepared[0].run(shard_state, shard=(ctx.rank, ctx.world_size))
        return {"outcome": outcome.to_dict(), "probe_forward": prepared[0].probe_cost}

    gathered = run_and_gather(run_shard, "the evaluation", heartbeat)
    if gathered is None:
        return None
    outcomes = [Outcome.from_dict(part["outcome"]) for part in gathered]
    details = prepared[0].details()  # rank 0's preparation covers the whole evaluation subset
    details["probe"].forward = sum(part["probe_forward"] for part in gathered)  # every rank probed
    result = merge_shards(outcomes, device=run.device, details=details)
    _use_wall_clock(result, outcomes)
    result.extra["distributed"] = {
        "world_size": ctx.world_size,
        "sharding": "blocks",
        "shard_sizes": [len(o.indices) for o in outcomes],
        "seconds_per_rank": [round(_total_seconds(o), 4) for o in outcomes],
    }
    finish(prepared[0], target, result, diagnostics=diagnostics)
    for rank in range(ctx.world_size):  # only now that the record is complete
        shard_state = rank_state(state, ctx, rank)
        if shard_state is not None:
            shard_state.clear()
    return result


def _total_seconds(outcome: Outcome) -> float:
    return outcome.clean_cost.seconds + sum(cost.seconds for cost in outcome.stage_cost)


def _use_wall_clock(result: EvaluationResult, outcomes: list[Outcome]) -> None:
    """Seconds as wall clock: the slowest rank's, not the sum over ranks that merging adds up."""
    for k, stage in enumerate(result.stages):
        stage.cost.seconds = round(max(o.stage_cost[k].seconds for o in outcomes), 4)
    result.clean_cost.seconds = max(o.clean_cost.seconds for o in outcomes)
