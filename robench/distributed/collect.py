"""Collectives that fail cleanly: every rank learns whether every other rank succeeded.

``run_and_gather(work)`` runs ``work()`` on each rank. A rank whose work raises still takes part in the
collective (carrying its error instead of a result), so its peers never wait on it; then every rank
stops: the failing rank re-raises its own exception, the others raise PeerFailedError naming it.
Only when every rank succeeded does rank 0 receive the results, so nothing is written half-done.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import torch.distributed as dist

from robench.distributed.runtime import current, object_group
from robench.errors import RobenchError

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


def run_and_gather(work: Callable[[], T], what: str = "the run") -> list[T] | None:
    """Run work() here; on rank 0 return every rank's result (in rank order), elsewhere None.

    Raises on every rank if any rank's work raised (see module docstring).
    """
    ctx = current()
    result, error = None, None
    try:
        result = work()
    except Exception as exc:  # re-raised below, after the peers have been told
        error = exc
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
