"""Every entry of RobustBench's model zoo (robustbench 1.1.1: 206, corruptions included) on CPU: does the
zoo's constructor build it here, its parameters, and the seconds of one forward+backward per image.

One entry at a time, in one process, freed before the next: the architecture built as robench builds it
(the zoo's constructor; a timm entry with ``timm.create_model(name, pretrained=False)``), random weights
(no checkpoint is read), eval mode, parameter gradients off; ``--batch`` random images of the entry's
input size (32x32, ImageNet 224x224 or the entry's crop, e.g. 288 for Wong2020Fast), cross-entropy on
random labels, backward to the input (an attack step's work). Seconds per image: the process's CPU time
(``time.process_time``; run with one torch thread, so it is the work's time even on a loaded machine) of
the best of ``--repeats`` timed steps after one warm-up step, divided by the batch. Appends one JSON line
per entry to ``--out`` (entries already there are skipped, so an interrupted run resumes); ``--table``
prints the Markdown table.

Memory mode (``--memory ENTRY ...``): in a fresh subprocess per entry, the automatic batch size for a
10,000-point CPU evaluation (robench.engine.evaluation.auto_batch_size, then
robench.engine.memory.memory_batch_size on the memory available then), the measured per-point memory of
an attack step, and the peak resident memory (``ru_maxrss``) of one attack step at that batch size.

    OMP_NUM_THREADS=1 nice -n 10 python benchmarks/robustbench_zoo.py --out zoo.jsonl
    python benchmarks/robustbench_zoo.py --out zoo.jsonl --table
    OMP_NUM_THREADS=1 python benchmarks/robustbench_zoo.py --memory cifar10/Linf/Standard
"""

from __future__ import annotations

import argparse
import gc
import json
import re
import resource
import time
import warnings
from pathlib import Path

import torch


def input_size(entry) -> int:
    """The side of the entry's input images (its ImageNet preprocessing's crop; 32 for CIFAR)."""
    if entry.dataset != "imagenet":
        return 32
    match = re.search(r"(?:Crop|Res)(\d+)$", entry.preprocessing or "Res256Crop224")
    return int(match.group(1))


def build(entry):
    """The zoo's module with random weights, as robench builds it (weights not loaded). A ``torchvision``
    entry's constructor loads torchvision's weights from the torch hub cache: it gets random ones there,
    in a temporary TORCH_HOME (no download)."""
    import os
    import tempfile

    import timm

    from robench.models.robustbench.load import weights_only_loads

    with weights_only_loads(), warnings.catch_warnings(), tempfile.TemporaryDirectory() as home:
        warnings.simplefilter("ignore")
        if entry.kind == "timm":
            return timm.create_model(entry.timm_name, num_classes=entry.num_classes, pretrained=False)
        if entry.kind == "torchvision":
            saved, os.environ["TORCH_HOME"] = os.environ.get("TORCH_HOME"), home
            try:
                path = entry.weight_files()[0]
                path.parent.mkdir(parents=True)
                torch.save(random_torchvision_weights(entry), path)
                return entry.spec["model"]()
            finally:
                os.environ.pop("TORCH_HOME") if saved is None else os.environ.update(TORCH_HOME=saved)
        return entry.spec["model"]()


def random_torchvision_weights(entry) -> dict:
    import torchvision.models

    from robench.models.robustbench.entries import TORCHVISION_WEIGHTS

    weights, _ = TORCHVISION_WEIGHTS[entry.name]
    architecture = weights.removesuffix("_Weights").lower()  # ResNet50_Weights -> resnet50
    return getattr(torchvision.models, architecture)().state_dict()


def step_seconds(model, size: int, batch: int, classes: int, repeats: int) -> float:
    """Best CPU seconds of this process per image of forward + cross-entropy + backward to the input (with
    one torch thread, the CPU time of the work, whatever else the machine runs)."""
    generator = torch.Generator().manual_seed(0)
    x = torch.rand(batch, 3, size, size, generator=generator)
    y = torch.randint(0, classes, (batch,), generator=generator)
    best = float("inf")
    for round_ in range(repeats + 1):
        start = time.process_time()
        x_grad = x.clone().requires_grad_(True)
        logits = model(x_grad)
        torch.nn.functional.cross_entropy(logits, y).backward()
        if round_:  # the first step warms up
            best = min(best, time.process_time() - start)
    return best / batch


def measure(dataset: str, threat: str, name: str, args) -> dict:
    from robench.models.robustbench.entries import PREFIX, zoo_entry

    row = {"entry": f"{PREFIX}{dataset}/{threat}/{name}", "dataset": dataset, "threat": threat}
    try:
        entry = zoo_entry(dataset, threat, name)
        row |= {"kind": entry.kind, "architecture": entry.architecture, "size": input_size(entry)}
        start = time.perf_counter()
        model = build(entry)
        row["build_s"] = round(time.perf_counter() - start, 2)
    except Exception as exc:  # noqa: BLE001 - a benchmark reports what fails to build
        row["error"] = f"{type(exc).__name__}: {' '.join(str(exc).split())[:160]}"
        return row
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    row["parameters"] = sum(p.numel() for p in model.parameters())
    batch = args.batch if row["size"] <= 64 else args.imagenet_batch
    try:
        row["fwd_bwd_s_per_image"] = step_seconds(model, row["size"], batch, entry.num_classes, args.repeats)
    except Exception as exc:  # noqa: BLE001
        row["error"] = f"forward/backward: {type(exc).__name__}: {' '.join(str(exc).split())[:160]}"
    row["peak_rss_gib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2)
    del model
    gc.collect()
    return row


def memory_row(key: str) -> dict:
    """The automatic batch size of a 10,000-point CPU evaluation and the peak memory of a step at it."""
    from robench.engine.evaluation import auto_batch_size
    from robench.engine.memory import free_bytes, memory_batch_size, per_sample_bytes
    from robench.models.robustbench.entries import PREFIX, zoo_entry

    entry = zoo_entry(*key.split("/"))
    model = build(entry).eval()
    for p in model.parameters():
        p.requires_grad_(False)
    shape = (3, input_size(entry), input_size(entry))
    heuristic = auto_batch_size(shape, "cpu", 10_000)
    free = free_bytes("cpu")
    batch = memory_batch_size(model, shape, "cpu", heuristic, free=free)
    per_point = per_sample_bytes(model, shape, "cpu")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    step_seconds(model, shape[1], batch, entry.num_classes, 0)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    gib = 2**20  # ru_maxrss is in KiB
    return {
        "entry": f"{PREFIX}{key}",
        "heuristic_batch": heuristic,
        "free_gib": round(free / 2**30, 2),
        "batch": batch,
        "estimate_mib_per_point": round(per_point / 2**20, 1),
        "rss_before_gib": round(before / gib, 2),
        "peak_rss_gib": round(peak / gib, 2),
        "step_gib": round((peak - before) / gib, 2),
        "block_256_estimate_gib": round(256 * per_point / 2**30, 1),
    }


def table(path: Path) -> str:
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    lines = [
        "| # | entry | kind | architecture | builds | parameters | input | fwd+bwd CPU s / image |",
        "|---:|---|---|---|---|---:|---:|---:|",
    ]
    for i, row in enumerate(rows, 1):
        arch = row.get("architecture", "").replace("|", "\\|")
        arch = arch if len(arch) <= 60 else arch[:57] + "…"
        builds = "yes" if "parameters" in row else "no: " + row.get("error", "")[:70].replace("|", "\\|")
        params = f"{row['parameters'] / 1e6:.1f} M" if "parameters" in row else ""
        size = f"{row['size']}²" if "size" in row else ""
        seconds = f"{row['fwd_bwd_s_per_image']:.3f}" if "fwd_bwd_s_per_image" in row else ""
        entry = row["entry"].removeprefix("robustbench:")
        lines.append(
            f"| {i} | `{entry}` | {row.get('kind', '')} | {arch} | {builds} | {params} | {size} | {seconds} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("robustbench_zoo.jsonl"))
    parser.add_argument("--batch", type=int, default=4, help="images per step at 32x32")
    parser.add_argument("--imagenet-batch", type=int, default=1, help="images per step at ImageNet size")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--only", nargs="*", help="entries (dataset/threat/name) to measure")
    parser.add_argument("--table", action="store_true", help="print the Markdown table of --out")
    parser.add_argument("--memory", nargs="*", help="entries (dataset/threat/name) for the memory mode")
    parser.add_argument("--memory-one", help=argparse.SUPPRESS)  # one entry, in this process
    args = parser.parse_args()
    if args.memory_one:
        print(json.dumps(memory_row(args.memory_one)), flush=True)
        return
    if args.memory:
        import subprocess
        import sys

        for key in args.memory:
            subprocess.run([sys.executable, __file__, "--memory-one", key], check=False)
        return
    if args.table:
        print(table(args.out))
        return
    from robench.models.robustbench.entries import zoo_names

    done = set()
    if args.out.exists():
        done = {json.loads(line)["entry"] for line in args.out.read_text().splitlines() if line.strip()}
    for dataset, threat, name in zoo_names(corruptions=True):
        key = f"{dataset}/{threat}/{name}"
        if f"robustbench:{key}" in done or (args.only and key not in args.only):
            continue
        row = measure(dataset, threat, name, args)
        print(json.dumps(row), flush=True)
        with args.out.open("a") as handle:
            handle.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
