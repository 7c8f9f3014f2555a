"""Every registered 32x32 architecture at CIFAR scale on CPU: the suite fgsm -> pgd-20 -> autoattack end
to end on random images, and the peak memory per sample of one forward+backward.

Suite mode (default): for each architecture, random weights and BatchNorm statistics measured on random
images (so the network's output depends on its input), ``--n`` random 32x32 images labelled with the
model's own clean predictions (every point starts robust), Linf 8/255, every attack on every point
(``--cascade``: the product's default cascade instead). Prints one JSON line per architecture: per
stage, points attacked / broken / rejected, forward and backward passes per attacked point, seconds.

Memory mode (``--memory``): in a fresh subprocess per (architecture, batch), the peak resident memory
(``ru_maxrss``) of an attack-style step (eval mode, parameter gradients off, input gradient on): forward,
cross-entropy, backward. Per-sample memory is the slope between two batch sizes; the intercept is the
weights plus the runtime.

    python benchmarks/cifar_scale.py --n 2
    python benchmarks/cifar_scale.py --archs wrn_28_10 dm_wrn_70_16 --memory --batches 4 12
"""

from __future__ import annotations

import argparse
import inspect
import json
import resource
import subprocess
import sys
import time

import torch

# small settings for the option-taking layouts (the named settings are evaluated at full size)
OPTIONS = {
    "preact_resnet": {"shortcut_from": "input", "final_bn": True},
    "wide_resnet": {"depth": 16, "width": 2},
    "wide_resnet_trades": {"depth": 16, "width": 2},
    "dm_wide_resnet": {"depth": 16, "width": 2, "activation": "swish"},
    "dm_preact_resnet": {"depth": 18, "activation": "relu"},
}
SUITE = ["fgsm", "pgd-20", "autoattack"]


class NormalisationHint:
    """The dataset attributes the normalisation rule reads (DeepMind layouts use their CIFAR-10 values)."""

    name, mean, std = "cifar10", (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)


def architectures_32() -> list[str]:
    from robench.models.layouts import LAYOUTS

    return [entry.name for entry in LAYOUTS if entry.input_size == 32]


def calibrate_batchnorm(model: torch.nn.Module, seed: int, images: int = 32) -> None:
    """Running statistics of a random network measured on random images: random, but input-sensitive
    (arbitrary statistics make a random network an almost constant function that no attack moves)."""
    batchnorms = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    for module in batchnorms:
        module.reset_running_stats()
        module.momentum = None  # a plain average over the batch
    model.train()
    with torch.no_grad():
        model(torch.rand(images, 3, 32, 32, generator=torch.Generator().manual_seed(seed + 1)))
    model.eval()


def build(arch: str, seed: int = 0) -> torch.nn.Module:
    """The loaded (normalised, eval-mode) model with random weights and BatchNorm statistics."""
    import warnings

    from robench.models.loading import load_model

    torch.manual_seed(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "no normalisation given": these are random networks
        loaded = load_model(arch=arch, num_classes=10, in_channels=3, arch_kwargs=OPTIONS.get(arch),
                            dataset=NormalisationHint())  # fmt: skip
    calibrate_batchnorm(loaded.module, seed)
    return loaded.module


def random_dataset(model: torch.nn.Module, n: int, seed: int):
    """n random 32x32 images labelled with the model's own predictions: every point starts robust."""
    from robench.data.base import ImageDataset

    images = torch.rand(n, 3, 32, 32, generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        labels = model(images).argmax(1)
    return ImageDataset(
        name="random-32x32", split="test", images=images, labels=labels, indices=torch.arange(n),
        num_classes=10, mean=(0.0,) * 3, std=(1.0,) * 3,
    )  # fmt: skip


def run_suite(model: torch.nn.Module, dataset, n: int, suite=SUITE, independent: bool = True):
    """robench.engine.evaluate.evaluate on the suite, whichever of its two signatures is current."""
    from robench.engine import evaluate as engine
    from robench.threat import ThreatModel

    threat = ThreatModel.parse("linf", 8 / 255)
    if "settings" in inspect.signature(engine.evaluate).parameters:
        from robench.engine.settings import RunSettings

        return engine.evaluate(
            model, dataset, threat, RunSettings(suite=list(suite), n=n, independent=independent)
        )
    return engine.evaluate(
        model, dataset, threat, suite=list(suite), n=n, independent=independent, diagnostics=False
    )


def suite_rows(arch: str, n: int, independent: bool, seed: int = 0) -> dict:
    model = build(arch, seed)
    start = time.perf_counter()
    result = run_suite(model, random_dataset(model, n, seed), n, independent=independent)
    stages = [
        {
            "attack": s.attack, "attacked": s.attacked, "broken": s.broken, "rejected": s.rejected,
            "forward_per_point": s.cost.forward / max(s.attacked, 1),
            "backward_per_point": s.cost.backward / max(s.attacked, 1), "seconds": round(s.cost.seconds, 2),
        }
        for s in result.stages
    ]  # fmt: skip
    return {"arch": arch, "n": n, "robust_acc": result.robust_acc, "stages": stages,
            "seconds": round(time.perf_counter() - start, 2)}  # fmt: skip


def peak_rss_mib(arch: str, batch: int) -> dict:
    """Child-process body: one attack-style forward+backward; peak RSS before and after, in MiB."""
    from robench.models import create_model

    model = create_model(arch, 10, 3, options=OPTIONS.get(arch)).eval().requires_grad_(False)
    x = torch.rand(batch, 3, 32, 32, requires_grad=True)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    loss = torch.nn.functional.cross_entropy(model(x), torch.zeros(batch, dtype=torch.long))
    loss.backward()
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"arch": arch, "batch": batch, "before_mib": before, "peak_mib": after}


def memory_rows(arch: str, batches: tuple[int, int]) -> dict:
    runs = []
    for batch in batches:
        code = f"import json, cifar_scale as b; print(json.dumps(b.peak_rss_mib({arch!r}, {batch})))"
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                             cwd=__file__.rsplit("/", 1)[0]).stdout  # fmt: skip
        runs.append(json.loads(out.strip().splitlines()[-1]))
    (small, large) = runs
    per_sample = (large["peak_mib"] - small["peak_mib"]) / (large["batch"] - small["batch"])
    return {"arch": arch, "runs": runs, "per_sample_mib": round(per_sample, 1),
            "intercept_mib": round(small["peak_mib"] - per_sample * small["batch"], 1)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--archs", nargs="*", help="default: every registered 32x32 architecture")
    parser.add_argument("--n", type=int, default=2, help="random images per architecture")
    parser.add_argument("--memory", action="store_true", help="measure peak memory per sample instead")
    parser.add_argument("--batches", nargs=2, type=int, default=(4, 12), help="two batch sizes (memory)")
    parser.add_argument("--threads", type=int, default=2, help="torch threads (1 on a crowded machine)")
    parser.add_argument(
        "--cascade", action="store_true", help="the cascade instead of every attack on every point"
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    for arch in args.archs or architectures_32():
        if args.memory:
            row = memory_rows(arch, tuple(args.batches))
        else:
            row = suite_rows(arch, args.n, independent=not args.cascade)
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
