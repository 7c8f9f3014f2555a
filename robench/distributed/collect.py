"""Collectives that fail cleanly: every rank learns whether every other rank succeeded.

``run_and_gather(work)`` runs ``work()`` on each rank. A rank whose work raises still takes part in the
collective (carrying its error instead of a result), so its peers never wait on it; then every rank
stops: the failing rank re-raises its own exception, the others raise PeerFailedError naming it.
Only when every rank succeeded does rank 0 receive the results, so nothing is written half-done.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from typing import Any, TypeVar

import torch.distributed as dist

from robench.distributed.runtime import collective_timeout, current, object_group
from robench.errors import RobenchError

POLL_SECONDS = 1.0
_runs = itertools.count()  # same sequence on every rank: namespaces the store keys of each call

T = TypeVar("T")


class PeerFailedError(RobenchError):
    """Another rank of a distributed run failed; this rank stops too, without writing anything."""


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if isinstance(exc, RobenchError):
        return text or type(exc).__name__
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _all_gather(obj: Any) -> list[Any]:
    out: list[Any] = [None] * dist.get_world_size()
    dist.all_gather_object(out, obj, group=object_group())
    return out


def check_all_ok(error: BaseException | None, what: str = "the run") -> None:
    """Agree across ranks that no rank failed; raise on every rank if one did."""
    ctx = current()
    if not ctx.distributed:
        if error is not None:
            raise error
        return
    errors = _all_gather(None if error is None else _describe(error))
    if error is not None:
        raise error
    failed = [(rank, message) for rank, message in enumerate(errors) if message is not None]
    if failed:
        rank, message = failed[0]
        others = f" (and {len(failed) - 1} more rank(s))" if len(failed) > 1 else ""
        raise PeerFailedError(
            f"{what} failed on rank {rank} of {ctx.world_size}{others}: {message}; "
            "nothing was written or stored"
        )


class Heartbeat:
    """Progress signals in torchrun's key-value store, so that ranks which finish early wait for their
    peers as long as those keep making progress, and fail only when one has been silent for the whole
    collective timeout (a dead or stuck peer), however long the evaluation takes.
    """

    def __init__(self) -> None:
        ctx = current()
        self.rank, self.world_size = ctx.rank, ctx.world_size
        self.store = dist.distributed_c10d._get_default_store() if ctx.distributed else None
        self.prefix = f"robench/run{next(_runs)}"

    def beat(self) -> None:
        if self.store is not None:
            self.store.add(f"{self.prefix}/beat/{self.rank}", 1)

    def wait_for_peers(self, what: str) -> None:
        """Mark this rank as finished, then wait until every rank is, failing on a silent one."""
        if self.store is None:
            return
        self.store.add(f"{self.prefix}/done/{self.rank}", 1)
        limit = collective_timeout().total_seconds()
        seen = {rank: (-1, time.monotonic()) for rank in range(self.world_size)}
        while True:
            waiting = [r for r in range(self.world_size) if self.store.add(f"{self.prefix}/done/{r}", 0) == 0]
            if not waiting:
                return
            now = time.monotonic()
            for rank in waiting:
                beats = self.store.add(f"{self.prefix}/beat/{rank}", 0)
                if beats != seen[rank][0]:
                    seen[rank] = (beats, now)
                elif now - seen[rank][1] > limit:
                    raise PeerFailedError(
                        f"{what} failed: rank {rank} of {self.world_size} has shown no progress for "
                        f"{limit:g} s (ROBENCH_DIST_TIMEOUT); nothing was written or stored"
                    )
            time.sleep(POLL_SECONDS)


def run_and_gather(
    work: Callable[[], T], what: str = "the run", heartbeat: Heartbeat | None = None
) -> list[T] | None:
    """Run work() here; on rank 0 return every rank's result (in rank order), elsewhere None.

    Raises on every rank if any rank's work raised (see module docstring). With a ``heartbeat`` that
    ``work`` beats as it progresses, ranks that finish early wait for slower peers without a time limit
    as long as those keep beating.
    """
    ctx = current()
    result, error = None, None
    try:
        result = work()
    except Exception as exc:  # re-raised below, after the peers have been told
        error = exc
    if heartbeat is not None:
        heartbeat.wait_for_peers(what)
    check_all_ok(error, what)
    if not ctx.distributed:
        return [result]
    gathered: list[Any] | None = [None] * ctx.world_size if ctx.is_main else None
    dist.gather_object(result, gathered, dst=0, group=object_group())
    return gathered


def broadcast_from_main(value: T) -> T:
    """Rank 0's value on every rank (e.g. a guard's stop decision, so all ranks stop together)."""
    if not current().distributed:
        return value
    box = [value]
    dist.broadcast_object_list(box, src=0, group=object_group())
    return box[0]


def barrier() -> None:
    if current().distributed:
        dist.barrier(group=object_group())
