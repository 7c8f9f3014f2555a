"""Speed-up of sharded evaluation: 2 ranks (torchrun, gloo) against 1 process, on this machine.

The same ``robench evaluate`` command (a shipped digits model, all 360 test points, a suite heavy
enough to amortise start-up) runs three ways, each timed end to end (process start-up, imports,
rendezvous, evaluation, writing the record):

- ``1 rank x 1 thread``   OMP_NUM_THREADS=1: the per-core baseline;
- ``1 rank x 2 threads``  OMP_NUM_THREADS=2: one process using both cores through intra-op threads;
- ``2 ranks x 1 thread``  torchrun --nproc-per-node 2, OMP_NUM_THREADS=1 per rank (both cores).

The ratios of wall seconds give the speed-up; the forward/backward passes counted at the model (summed
over ranks) must be identical across the three, and so must every per-sample outcome (checked).

    python benchmarks/distributed_speedup.py                      # digits/linf/pgd, heavy suite
    python benchmarks/distributed_speedup.py --model digits/linf/trades --suite standard --n 200
    python benchmarks/distributed_speedup.py --suite standard --split train --skip-two-threads  # 1,437 points
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HEAVY_SUITE = 'name = "bench-heavy"\nversion = "1"\nattacks = ["fgsm", "pgd-20", "pgd-100x5", "cw"]\n'


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run(ranks: int, threads: int, args: argparse.Namespace, work: Path) -> tuple[float, dict]:
    out = work / f"r{ranks}t{threads}.json"
    command = ["evaluate", "--model", args.model, "--suite", args.suite, "--seed", "0", "--out", str(out)]
    command += ["--no-diagnostics", "--no-resume", "--block-size", str(args.block_size)]
    command += ["-n", str(args.n)] if args.n else []
    command += ["--split", args.split]
    env = os.environ | {"OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    env |= {"ROBENCH_PROGRESS": "0", "GLOO_SOCKET_IFNAME": "lo"}
    if ranks == 1:
        argv = [sys.executable, "-m", "robench", *command]
    else:
        argv = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", str(ranks)]
        argv += ["--master-addr", "127.0.0.1", "--master-port", str(free_port()), "-m", "robench", *command]
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"{' '.join(argv)} failed:\n{done.stderr[-3000:]}")
    return seconds, json.loads(out.read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="digits/linf/pgd")
    parser.add_argument(
        "--suite", default=None, help="suite name or file (default: fgsm, pgd-20, pgd-100x5, cw)"
    )
    parser.add_argument("--n", type=int, default=None, help="points (default: the whole split)")
    parser.add_argument(
        "--split", default="test", help="test (digits: 360 points) or train (1,437: amortises start-up)"
    )
    parser.add_argument(
        "--block-size",
        type=int,
        default=64,
        help="sharding unit (robench's default 256 would leave 2 ranks "
        "unbalanced on digits' 360 test points: 256 + 104)",
    )
    parser.add_argument("--rounds", type=int, default=1, help="repeat each setting; the best time counts")
    parser.add_argument(
        "--skip-two-threads", action="store_true", help="leave out 1 rank x 2 threads (slow on some machines)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if args.suite is None:
            (work / "suite.toml").write_text(HEAVY_SUITE)
            args.suite = str(work / "suite.toml")
        settings = [(1, 1), (2, 1)] if args.skip_two_threads else [(1, 1), (1, 2), (2, 1)]
        best: dict[tuple[int, int], float] = {}
        best_eval: dict[tuple[int, int], float] = {}
        records: dict[tuple[int, int], dict] = {}
        for _ in range(args.rounds):
            for ranks, threads in settings:
                seconds, record = run(ranks, threads, args, work)
                best[(ranks, threads)] = min(seconds, best.get((ranks, threads), float("inf")))
                evaluation = record["extra"]["total_cost"]["seconds"]
                best_eval[(ranks, threads)] = min(evaluation, best_eval.get((ranks, threads), float("inf")))
                records[(ranks, threads)] = record
    base = records[(1, 1)]
    where = f"{args.split} split, n={base['n']}"
    print(f"model {args.model} · {where} · suite {base['suite']['attacks']} · {os.cpu_count()} CPUs")
    print(f"{'setting':<22}{'wall s':>9}{'eval s':>9}{'forward':>11}{'backward':>11}{'speed-up':>10}")
    for ranks, threads in settings:
        record = records[(ranks, threads)]
        same = record["samples"] == base["samples"]
        forward = sum(s["forward"] for s in record["stages"])
        backward = sum(s["backward"] for s in record["stages"])
        evaluation = best_eval[(ranks, threads)]
        ratio = best[(1, 1)] / best[(ranks, threads)]
        label = f"{ranks} rank{'s' if ranks > 1 else ''} x {threads} thread{'s' if threads > 1 else ''}"
        flag = "" if same else "  PER-SAMPLE OUTCOMES DIFFER"
        wall = best[(ranks, threads)]
        print(f"{label:<22}{wall:>9.2f}{evaluation:>9.2f}{forward:>11,}{backward:>11,}{ratio:>9.2f}x{flag}")
    two, seconds = best[(2, 1)], best_eval
    print(f"2 ranks over 1 rank (1 thread each): {best[(1, 1)] / two:.2f}x wall clock (start-up included)")
    print(
        f"{seconds[(1, 1)] / seconds[(2, 1)]:.2f}x evaluation seconds only (slowest rank, start-up excluded)"
    )
    if (1, 2) in best:
        print(
            f"2 ranks over 1 rank with 2 threads: {best[(1, 2)] / two:.2f}x wall clock, "
            f"{seconds[(1, 2)] / seconds[(2, 1)]:.2f}x evaluation seconds"
        )


if __name__ == "__main__":
    main()
