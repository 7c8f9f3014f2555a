"""How many CPU threads torch computes with: the default, and the ``--threads`` option, declared once.

torch's own default is one thread per physical core of the machine, whatever else runs there: under a
container's or ``taskset``'s CPU limit, beside other jobs, or with several torchrun ranks on one node,
the threads outnumber the CPUs and an evaluation runs several times slower for identical results
(benchmarks/threads.py; docs/benchmarks.md). robench's default is the CPUs this process may run on
(``os.sched_getaffinity``), divided among the processes torchrun started on this node
(``LOCAL_WORLD_SIZE``), at least one; an explicit ``OMP_NUM_THREADS`` is respected; ``--threads N``
(``threads=N`` in Python) overrides both. The number of threads never changes a result.
"""

from __future__ import annotations

import os
from dataclasses import field
from typing import Any

from robench.errors import RobenchError
from robench.options import option

THREADS_HELP = (
    "CPU threads for torch (default: OMP_NUM_THREADS if set, else the CPUs this process may use, divided "
    "among torchrun's ranks on this node)"
)


def threads_field() -> Any:
    """The ``threads`` field of a settings dataclass (evaluate, gate, certify, submit, demo, train)."""
    return field(default=None, metadata=option(THREADS_HELP))


def available_cpus() -> int:
    """The CPUs this process may run on (its affinity mask), else the machine's count."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        return os.cpu_count() or 1


def default_threads() -> int:
    """OMP_NUM_THREADS when it is a positive integer, else the available CPUs shared by the local ranks."""
    given = os.environ.get("OMP_NUM_THREADS", "").strip()
    if given.isdigit() and int(given) > 0:
        return int(given)
    ranks = os.environ.get("LOCAL_WORLD_SIZE", "").strip()
    local = int(ranks) if ranks.isdigit() and int(ranks) > 0 else 1
    return max(1, available_cpus() // local)


def use_threads(threads: int | None = None) -> int:
    """Set torch's CPU threads to ``threads`` (default: ``default_threads()``); returns the number."""
    import torch

    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int) or threads < 1):
        raise RobenchError(f"--threads must be a positive integer, got {threads!r}")
    count = threads or default_threads()
    if torch.get_num_threads() != count:
        torch.set_num_threads(count)
    return count
