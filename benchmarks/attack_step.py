"""Cost of one PGD step: robench vs the bare forward+backward floor and vs peer libraries, side by side.

On a PreActResNet-18 (robench's ``preact_resnet18``) and a batch of random CIFAR-sized images, each
method runs a K-step Linf PGD (random start, step 2.5 * eps / K) in the same process, in rotating order
over several rounds. The table gives the best (minimum) seconds per step over the rounds (the robust
estimate on a shared machine), its ratio to the floor (K bare forward+backward passes on the same batch,
input gradient only) and the forward/backward passes counted at the model, in samples.

Two settings: ``active`` uses eps = 1e-5 so no point is ever misclassified (every step costs the whole
batch: this is the per-step cost); ``eps`` uses the given eps, where robench's early stopping drops
points as soon as they are misclassified (peers keep paying for them).

    python benchmarks/attack_step.py                       # 64 images, PGD-20, 3 rounds
    python benchmarks/attack_step.py --batch 16 --steps 5 --rounds 2 --threads 2
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import torch
import torch.nn.functional as F

from robench.attacks import build_attack
from robench.core.counting import CountingModel
from robench.models import create_model
from robench.threat import ThreatModel


def floor(model, x, y, eps, steps):
    for _ in range(steps):
        points = x.clone().requires_grad_(True)
        loss = F.cross_entropy(model(points), y)
        torch.autograd.grad(loss, points)


def robench_pgd(model, x, y, eps, steps):
    build_attack(f"pgd-{steps}", ThreatModel("linf", eps))(model, x, y, torch.arange(len(x)))


def torchattacks_pgd(model, x, y, eps, steps):
    import torchattacks

    torchattacks.PGD(model, eps=eps, alpha=2.5 * eps / steps, steps=steps, random_start=True)(x, y)


def foolbox_pgd(model, x, y, eps, steps):
    import foolbox

    fmodel = foolbox.PyTorchModel(model, bounds=(0, 1))
    attack = foolbox.attacks.LinfPGD(abs_stepsize=2.5 * eps / steps, steps=steps, random_start=True)
    attack(fmodel, x, y, epsilons=eps)


def art_pgd(model, x, y, eps, steps):
    from art.attacks.evasion import ProjectedGradientDescentPyTorch
    from art.estimators.classification import PyTorchClassifier

    classifier = PyTorchClassifier(
        model=model,
        loss=torch.nn.CrossEntropyLoss(),
        input_shape=tuple(x.shape[1:]),
        nb_classes=10,
        clip_values=(0.0, 1.0),
        device_type="cpu",
    )
    attack = ProjectedGradientDescentPyTorch(
        classifier, norm=np.inf, eps=eps, eps_step=2.5 * eps / steps, max_iter=steps,
        num_random_init=1, batch_size=len(x), verbose=False,
    )  # fmt: skip
    attack.generate(x.numpy(), y.numpy())


METHODS = {
    "floor (fwd+bwd)": floor,
    "robench pgd": robench_pgd,
    "torchattacks PGD": torchattacks_pgd,
    "foolbox LinfPGD": foolbox_pgd,
    "ART PGD": art_pgd,
}


def measure(model, x, y, eps, steps, rounds, methods):
    seconds = {name: [] for name in methods}
    passes = {}
    for name in methods:  # warm-up: imports, allocator, first-call overheads
        METHODS[name](CountingModel(model).eval(), x[:2], y[:2], eps, 1)
    for round_index in range(rounds):
        order = methods[round_index % len(methods) :] + methods[: round_index % len(methods)]
        for name in order:
            counter = CountingModel(model).eval()
            start = time.perf_counter()
            METHODS[name](counter, x, y, eps, steps)
            seconds[name].append(time.perf_counter() - start)
            passes[name] = (counter.forward_samples, counter.backward_samples)
    return {name: (min(seconds[name]) / steps, passes[name]) for name in methods}


def print_table(title, results, batch):
    base = results["floor (fwd+bwd)"][0]
    print(f"\n{title}")
    print("| method | s / step | x floor | forward | backward | passes / point |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, (per_step, (forward, backward)) in results.items():
        per_point = (forward + backward) / batch
        print(
            f"| {name} | {per_step:.3f} | {per_step / base:.3f} | {forward} | {backward} | {per_point:.1f} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--eps", type=float, default=8 / 255)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument("--skip-eps", action="store_true", help="only the all-points-active setting")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    warnings.filterwarnings("ignore")
    torch.manual_seed(0)
    model = create_model("preact_resnet18", num_classes=10, in_channels=3).eval().requires_grad_(False)
    x = torch.rand(args.batch, 3, 32, 32)
    with torch.no_grad():
        y = model(x).argmax(1)  # every point starts correctly classified
    print(
        f"PreActResNet-18, {args.batch} random 3x32x32 images, Linf PGD-{args.steps}, "
        f"best of {args.rounds} rounds, torch {torch.__version__}, {torch.get_num_threads()} threads"
    )
    names = list(METHODS)
    print_table(
        "active: eps=1e-5, no point breaks (per-step cost)",
        measure(model, x, y, 1e-5, args.steps, args.rounds, names),
        args.batch,
    )
    if not args.skip_eps:
        results = measure(model, x, y, args.eps, args.steps, args.rounds, names[:2])
        print_table(f"eps={args.eps:.5f}: robench stops paying for broken points", results, args.batch)


if __name__ == "__main__":
    main()
