"""How many CPU threads torch computes with: the default, and the ``--threads`` option, declared once.

torch's own default is one thread per physical core of the machine, whatever else runs there: under a
container's or ``taskset``'s CPU limit, beside other jobs, or with several torchrun ranks on one node,
the threads outnumber the CPUs and an evaluation runs several times slower for identical results
(benchmarks/threads.py; docs/benchmarks.md). robench's default is the CPUs this process may run on
(``os.sched_getaffinity``, and no more than a cgroup CPU quota allows: a container's ``--cpus``), divided
among the processes torchrun started on this node (``LOCAL_WORLD_SIZE``), less the share other work keeps
busy (the 1-minute load average over the machine's CPUs: on 2 CPUs beside one spinning process, one
thread), at least one; an explicit ``OMP_NUM_THREADS`` is respected; ``--threads N`` (``threads=N`` in
Python) overrides both. The number of threads never changes a result.
"""

from __future__ import annotations

import os
from dataclasses import field
from typing import Any

from robench.errors import RobenchError
from robench.options import option

THREADS_HELP = (
    "CPU threads for torch (default: OMP_NUM_THREADS if set, else the CPUs this process may use, divided "
    "among torchrun's ranks on this node, less those other work keeps busy)"
)


def threads_field() -> Any:
    """The ``threads`` field of a settings dataclass (evaluate, gate, certify, submit, demo, train)."""
    return field(default=None, metadata=option(THREADS_HELP))


def available_cpus() -> int:
    """The CPUs this process may run on (its affinity mask, else the machine's count), capped by a cgroup
    CPU quota."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        cpus = os.cpu_count() or 1
    quota = cgroup_cpus()
    return max(1, min(cpus, quota)) if quota is not None else cpus


#: cgroup v2's "<quota> <period>" file, then cgroup v1's two files
CGROUP_V2, CGROUP_V1 = (
    "/sys/fs/cgroup/cpu.max",
    ("/sys/fs/cgroup/cpu/cpu.cfs_quota_us", "/sys/fs/cgroup/cpu/cpu.cfs_period_us"),
)


def cgroup_cpus(v2: str = CGROUP_V2, v1: tuple[str, str] = CGROUP_V1) -> int | None:
    """Whole CPUs a cgroup quota allows (``docker --cpus 1.5`` gives 1), or None without a quota."""
    try:
        with open(v2) as handle:
            quota, period = (handle.read().split() + ["100000"])[:2]
    except OSError:
        try:
            with open(v1[0]) as q, open(v1[1]) as p:
                quota, period = q.read().strip(), p.read().strip()
        except OSError:
            return None
    if quota in ("max", "-1") or not quota.lstrip("-").isdigit() or not period.isdigit() or int(period) == 0:
        return None
    return max(1, int(quota) // int(period))


def busy_fraction() -> float:
    """The share of the machine's CPUs other work keeps busy: the 1-minute load average over the CPU count,
    in [0, 1] (0 where the system does not say)."""
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):
        return 0.0
    return min(1.0, max(0.0, load / (os.cpu_count() or 1)))


def default_threads() -> int:
    """OMP_NUM_THREADS when it is a positive integer, else the available CPUs shared by the local ranks,
    less the busy share (rounded), at least one."""
    given = os.environ.get("OMP_NUM_THREADS", "").strip()
    if given.isdigit() and int(given) > 0:
        return int(given)
    ranks = os.environ.get("LOCAL_WORLD_SIZE", "").strip()
    local = int(ranks) if ranks.isdigit() and int(ranks) > 0 else 1
    share = available_cpus() // local
    return max(1, round(share * (1.0 - busy_fraction())))


def use_threads(threads: int | None = None) -> int:
    """Set torch's CPU threads to ``threads`` (default: ``default_threads()``); returns the number."""
    import torch

    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int) or threads < 1):
        raise RobenchError(f"--threads must be a positive integer, got {threads!r}")
    count = threads or default_threads()
    if torch.get_num_threads() != count:
        torch.set_num_threads(count)
    return count
