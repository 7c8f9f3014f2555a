"""Joining the process group that torchrun describes (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR/PORT).

Backends: gloo on CPU; nccl for CUDA tensors, plus a gloo group for Python objects (results, errors,
guard decisions), so gathering records never needs GPU memory. Every collective has a timeout
(``ROBENCH_DIST_TIMEOUT`` seconds, default 1800): a dead peer makes the run fail instead of hang. Ranks
that finish early wait on their peers' heartbeats instead (``collect.Heartbeat``), so a long but live
evaluation is never cut short by that timeout.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta

import torch
import torch.distributed as dist

from robench.errors import RobenchError

DEFAULT_TIMEOUT_S = 1800.0
_REQUIRED_ENV = ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")
_object_group = None


@dataclass(frozen=True)
class DistContext:
    """Where this process stands: its global rank, the number of processes, its rank on this node."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    def __str__(self) -> str:
        return f"rank {self.rank} of {self.world_size}"


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise RobenchError(f"environment variable {name}={value!r} is not an integer") from None


def launched_distributed() -> bool:
    """True when started by torchrun (or an equivalent launcher) with more than one process."""
    return _env_int("WORLD_SIZE", 1) > 1


def refuse_under_torchrun(command: str) -> None:
    """Stop a command that evaluates in one piece (and stores) when started with WORLD_SIZE > 1."""
    if launched_distributed():
        raise RobenchError(
            f"robench {command} does not run under torchrun (WORLD_SIZE={_env_int('WORLD_SIZE', 1)}): every "
            "rank would evaluate in full and store its own result; use 'robench evaluate' or 'robench train' "
            "under torchrun"
        )


def current() -> DistContext:
    """This process's place in the run: from the live process group, else from the environment."""
    if dist.is_available() and dist.is_initialized():
        return DistContext(dist.get_rank(), dist.get_world_size(), _env_int("LOCAL_RANK", 0))
    if launched_distributed():
        return DistContext(_env_int("RANK", 0), _env_int("WORLD_SIZE", 1), _env_int("LOCAL_RANK", 0))
    return DistContext()


def collective_timeout() -> timedelta:
    raw = os.environ.get("ROBENCH_DIST_TIMEOUT", str(DEFAULT_TIMEOUT_S))
    try:
        seconds = float(raw)
    except ValueError:
        seconds = -1.0
    if not seconds > 0:
        raise RobenchError(f"ROBENCH_DIST_TIMEOUT must be a positive number of seconds, got {raw!r}")
    return timedelta(seconds=seconds)


def _uses_cuda(device: str | torch.device) -> bool:
    return torch.device(device).type == "cuda"


def rank_device(device: str | torch.device) -> str:
    """The device this rank should use: ``cuda`` becomes ``cuda:LOCAL_RANK`` (one GPU per process)."""
    device = torch.device(device)
    if device.type == "cuda" and device.index is None and launched_distributed():
        return f"cuda:{_env_int('LOCAL_RANK', 0)}"
    return str(device)


def setup(device: str | torch.device = "cpu") -> DistContext:
    """Join the process group if launched with WORLD_SIZE > 1 (idempotent); a no-op for a single process."""
    global _object_group
    if not launched_distributed():
        return DistContext()
    if dist.is_initialized():
        return current()
    missing = [name for name in _REQUIRED_ENV if not os.environ.get(name)]
    if missing:
        raise RobenchError(
            f"WORLD_SIZE>1 but {', '.join(missing)} not set: start distributed runs with torchrun"
        )
    backend = "gloo"
    if _uses_cuda(device):
        if not torch.cuda.is_available():
            raise RobenchError("--device cuda was asked for but CUDA is not available on this machine")
        torch.cuda.set_device(int(rank_device(device).split(":")[1]))
        backend = "nccl"
    timeout = collective_timeout()
    try:
        dist.init_process_group(backend, timeout=timeout)
    except (RuntimeError, ValueError) as exc:
        address = f"{os.environ['MASTER_ADDR']}:{os.environ['MASTER_PORT']}"
        raise RobenchError(f"could not join the process group at {address} ({exc})") from None
    _object_group = dist.new_group(backend="gloo", timeout=timeout) if backend == "nccl" else None
    return current()


def object_group():
    """The group used for Python-object collectives (gloo, CPU): the world group unless it runs nccl."""
    return _object_group


def teardown() -> None:
    """Leave the process group (safe to call when none was joined)."""
    global _object_group
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()
    _object_group = None
