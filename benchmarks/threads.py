"""How many torch threads: torch's own default, robench's default, OMP_NUM_THREADS=1 and 2, on an idle and
on a loaded machine.

Each setting runs the same evaluation in a fresh process (torch reads OMP_NUM_THREADS when it starts):
``robench.evaluate`` of a zoo model with the ``quick`` suite (diagnostics on unless ``--no-diagnostics``)
on ``--n`` digits test points, timed around the call (import and loading excluded). "torch default" sets
nothing (torch then uses one thread per core of the machine); "robench default" is what every robench
command applies (``robench.core.threads.default_threads``: the CPUs this process may use, over the
torchrun ranks of the node, less the share other work keeps busy), decided in each run's own process.
The loaded runs start ``--load`` processes that spin on the CPU for the whole run (``--load 0`` skips
them); "idle" is the machine as found (its load average is printed). Every run's per-point outcomes are
compared: the number of threads must never change a result. The table gives the fastest (min) and median
wall seconds over ``--repeats``.

    OMP_NUM_THREADS= python benchmarks/threads.py                     # pgd, n=100, 3 repeats, load 1
    python benchmarks/threads.py --model digits/linf/trades --n 60 --repeats 2 --load 2
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

RUN = """
import json, sys, time
import torch
import robench
from robench.core.threads import use_threads

model, n, diagnostics, robench_default = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1", sys.argv[4] == "1"
if robench_default:
    use_threads()
robench.load_model(model)  # warm: loading and the first forward are not what is measured
start = time.perf_counter()
result = robench.evaluate(model, n=n, suite="quick", seed=0, diagnostics=diagnostics)
seconds = time.perf_counter() - start
outcome = [(s.index, s.robust) for s in result.samples]
print(json.dumps({"threads": torch.get_num_threads(), "seconds": seconds, "robust_acc": result.robust_acc,
                  "outcome": outcome}))
"""

SETTINGS = {  # name -> (OMP_NUM_THREADS or None to unset it, apply robench's default)
    "torch default": (None, False),
    "robench default": (None, True),
    "OMP_NUM_THREADS=1": ("1", False),
    "OMP_NUM_THREADS=2": ("2", False),
}


def run_once(setting: str, args: argparse.Namespace) -> dict:
    omp, robench_default = SETTINGS[setting]
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    env |= {"ROBENCH_PROGRESS": "0", "PYTHONPATH": str(ROOT)} | ({"OMP_NUM_THREADS": omp} if omp else {})
    argv = [args.model, str(args.n), "0" if args.no_diagnostics else "1", "1" if robench_default else "0"]
    done = subprocess.run(
        [sys.executable, "-c", RUN, *argv], env=env, capture_output=True, text=True, check=False, cwd=ROOT
    )
    if done.returncode:
        raise SystemExit(f"{setting} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def spinners(count: int) -> list[subprocess.Popen]:
    return [subprocess.Popen([sys.executable, "-c", "while True:\n    pass"]) for _ in range(count)]


def measure(args: argparse.Namespace, load: int) -> dict[str, list[dict]]:
    print(f"load {load}: 1-minute load average before it starts {os.getloadavg()[0]:.1f}", flush=True)
    busy = spinners(load)
    try:
        time.sleep(0.5 if load else 0)
        runs: dict[str, list[dict]] = {s: [] for s in SETTINGS}
        for _ in range(args.repeats):  # settings interleaved: a slow minute of the machine hits all alike
            for setting in SETTINGS:
                runs[setting].append(run_once(setting, args))
        return runs
    finally:
        for process in busy:
            process.kill()
            process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--model", default="digits/linf/pgd")
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--load", type=int, default=1, help="spinning processes for the loaded runs")
    parser.add_argument("--no-diagnostics", action="store_true")
    parser.add_argument("--json", type=Path, help="also write the runs here")
    args = parser.parse_args()
    allowed = len(os.sched_getaffinity(0))
    diagnostics = "off" if args.no_diagnostics else "on"
    print(f"CPUs: {os.cpu_count()} in the machine, {allowed} allowed; {args.model}, quick suite, n={args.n}")
    print(f"diagnostics {diagnostics}; {args.repeats} repeats; load = {args.load} spinning processes")
    loads = [0, args.load] if args.load else [0]
    results = {load: measure(args, load) for load in loads}
    reference = results[0]["OMP_NUM_THREADS=1"][0]["outcome"]
    same = all(r["outcome"] == reference for runs in results.values() for rs in runs.values() for r in rs)
    headings = [f"{'idle' if load == 0 else f'load {load}'} min / median s" for load in loads]
    print("| setting | threads | " + " | ".join(headings) + " |")
    print("|---|---:|" + "---:|" * len(loads))
    for setting in SETTINGS:
        cells = []
        for load in loads:
            seconds = [r["seconds"] for r in results[load][setting]]
            cells.append(f"{min(seconds):.1f} / {statistics.median(seconds):.1f}")
        threads = results[0][setting][0]["threads"]
        print(f"| {setting} | {threads} | " + " | ".join(cells) + " |")
    robust = results[0]["OMP_NUM_THREADS=1"][0]["robust_acc"]
    print(f"identical per-point outcomes in every run: {same} (robust accuracy {robust:.3f})")
    if args.json:
        args.json.write_text(json.dumps({str(k): v for k, v in results.items()}, indent=1))
    if not same:
        raise SystemExit("the number of threads changed a result")


if __name__ == "__main__":
    main()
