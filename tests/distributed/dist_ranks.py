"""Start N local processes that join a gloo process group on loopback, as torchrun would."""

from __future__ import annotations

import multiprocessing as mp
import os
import socket
import traceback


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def loopback_env(world_size: int, port: int) -> dict[str, str]:
    return {
        "MASTER_ADDR": "127.0.0.1",
        "MASTER_PORT": str(port),
        "WORLD_SIZE": str(world_size),
        "GLOO_SOCKET_IFNAME": "lo",
        "OMP_NUM_THREADS": "1",
        "ROBENCH_DIST_TIMEOUT": "60",
    }


def _child(rank, world_size, port, fn, args, queue) -> None:
    os.environ.update(loopback_env(world_size, port) | {"RANK": str(rank), "LOCAL_RANK": str(rank)})
    from robench.distributed import runtime

    try:
        runtime.setup("cpu")
        queue.put((rank, "ok", fn(*args)))
    except BaseException as exc:  # reported to the test, which asserts on it
        queue.put((rank, "error", (type(exc).__name__, str(exc), traceback.format_exc())))
    finally:
        runtime.teardown()


def run_ranks(fn, world_size: int = 2, args: tuple = (), timeout: float = 60) -> dict[int, tuple]:
    """Run fn(*args) on every rank; {rank: ("ok", value) | ("error", (type, message, traceback))}."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    port = free_port()
    procs = [
        ctx.Process(target=_child, args=(r, world_size, port, fn, args, queue)) for r in range(world_size)
    ]
    for proc in procs:
        proc.start()
    results = {}
    try:
        for _ in procs:
            rank, status, value = queue.get(timeout=timeout)
            results[rank] = (status, value)
    finally:
        for proc in procs:
            proc.join(timeout=10)
            if proc.is_alive():
                proc.kill()
    return results
