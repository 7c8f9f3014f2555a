"""Cost of an adversarial-training epoch against a standard epoch, measured through the real trainer.

    python benchmarks/train_epoch.py [--width 32] [--batch-size 128] [--rounds 3] [--steps 7 10]

Each recipe trains small_cnn on the digits train split with ``robench.training.train``; the step
callbacks time every optimiser step after the first epoch (validation between epochs is excluded) and
a counting wrapper counts forward and backward passes in samples at the model. Bounds: a PGD-k epoch
costs at most 1.05 x (k+1) standard epochs -- its pass floor, k input-gradient steps plus the training
step; TRADES-k at most 1.05 x (k+2) plus one forward (k KL steps, the eval-mode clean forward, and a
training step through both the clean and the adversarial batch).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import torch
from torch import nn

from robench.models import ARCHITECTURES, create_model
from robench.training import TrainConfig, train


class Counted(nn.Module):
    """Counts forward and backward passes (in samples) through the wrapped network."""

    forward_samples = 0
    backward_samples = 0

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, x):
        Counted.forward_samples += x.shape[0]
        out = self.net(x)
        if out.requires_grad:
            out.register_hook(self._count_backward)
        return out

    @staticmethod
    def _count_backward(grad):
        Counted.backward_samples += grad.shape[0]


def counted_small_cnn(num_classes: int = 10, in_channels: int = 1, **kwargs) -> nn.Module:
    return Counted(create_model("small_cnn", num_classes=num_classes, in_channels=in_channels, **kwargs))


def measure(recipe: str, steps: int | None, args) -> dict:
    config = TrainConfig(
        recipe=recipe, arch="bench_counted_small_cnn", epochs=args.epochs, batch_size=args.batch_size,
        attack_steps=steps, monitor_n=16, monitor_pgd_steps=1, arch_kwargs={"width": args.width},
        optimizer="sgd", lr=0.01, schedule="constant",
    )  # fmt: skip
    marks: list[tuple[int, int, float, int, int]] = []

    def on_step(event):
        if event.kind == "step" and event.epoch > 1:
            now = time.perf_counter()
            marks.append((event.epoch, event.step, now, Counted.forward_samples, Counted.backward_samples))

    with tempfile.TemporaryDirectory() as out:
        train(config, out, "bench", callbacks=[on_step])
    last_step = max(step for _, step, *_ in marks)
    seconds, forward, backward = [], 0, 0
    for (e0, _, t0, f0, b0), (e1, s1, t1, f1, b1) in zip(marks, marks[1:], strict=False):
        if e0 == e1 and s1 < last_step:  # full batches of one epoch, no validation in between
            seconds.append(t1 - t0)
            forward, backward = forward + f1 - f0, backward + b1 - b0
    return {"seconds": seconds, "fwd": forward / len(seconds), "bwd": backward / len(seconds)}


def measure_rounds(runs, args) -> dict:
    """Every recipe once per round, rounds interleaved, so slow drifts in machine load hit all alike."""
    results: dict = {}
    for _ in range(args.rounds):
        for recipe, k, _ in runs:
            res = measure(recipe, k, args)
            entry = results.setdefault((recipe, k), {**res, "seconds": []})
            entry["seconds"] += res["seconds"]
    for entry in results.values():
        entry["min_s"], entry["median_s"] = min(entry["seconds"]), statistics.median(entry["seconds"])
        entry["steps"] = len(entry["seconds"])
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--epochs", type=int, default=2, help="epochs per run; the first is warm-up")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved runs of every recipe")
    parser.add_argument("--steps", type=int, nargs="+", default=[7, 10], help="inner steps k")
    args = parser.parse_args()
    if "bench_counted_small_cnn" not in ARCHITECTURES:
        ARCHITECTURES.add("bench_counted_small_cnn", counted_small_cnn)

    runs = [("standard", None, 1.0)]
    runs += [("pgd", k, k + 1.0) for k in args.steps]
    runs += [("trades", k, k + 2.0) for k in args.steps]
    results = measure_rounds(runs, args)
    base = results[("standard", None)]
    print(
        f"small_cnn width {args.width}, digits train, batch {args.batch_size}, "
        f"torch threads {torch.get_num_threads()}, {base['steps']} timed steps per recipe"
    )
    header = f"{'recipe':10s} {'min s/step':>10s} {'ratio':>6s} {'median':>7s} {'ratio':>6s}"
    print(f"{header} {'fwd/pt':>7s} {'bwd/pt':>7s} {'bound':>6s}  result")
    all_ok = True
    for recipe, k, floor in runs:
        res = results[(recipe, k)]
        ratio = res["min_s"] / base["min_s"]  # fastest step: least disturbed by other load
        median_ratio = res["median_s"] / base["median_s"]
        extra_forward = 1 / 3 if recipe == "trades" else 0.0  # one forward ~ a third of forward + backward
        bound = 1.05 * (floor + extra_forward)
        ok = ratio <= bound
        all_ok &= ok
        label = recipe if k is None else f"{recipe}-{k}"
        fwd, bwd = res["fwd"] / base["fwd"], res["bwd"] / base["fwd"]  # per training point
        verdict = "PASS" if ok else "FAIL"
        times = f"{res['min_s']:10.4f} {ratio:6.2f} {res['median_s']:7.4f} {median_ratio:6.2f}"
        print(f"{label:10s} {times} {fwd:7.2f} {bwd:7.2f} {bound:6.2f}  {verdict}")
    print(
        "ratio = seconds per step over standard's (the bound is checked on the min ratio, which other load "
        "on the machine disturbs least); fwd/pt, bwd/pt = passes per training point per step"
    )
    raise SystemExit(0 if all_ok else 1)


if __name__ == "__main__":
    main()
