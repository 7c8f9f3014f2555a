"""Cost of certification per point (IBP, CROWN-IBP, full CROWN) beside one PGD-20 attack on the same points.

Models: ``small_cnn`` on digits (1x8x8; the zoo's ``digits/linf/pgd`` weights and real test points, linf
0.3) and the registered 32x32 architectures (``preact_resnet18``, ``resnet18``, ``wide_resnet`` 16-4,
``wrn_28_10``) with random weights and random BatchNorm running statistics in eval mode, on random
images labelled with the model's own prediction (linf 8/255). ``crown`` on the 32x32 networks exceeds
the full-CROWN neuron limit and runs CROWN-IBP: the table's "ran" column says which method ran.

Work is ``Certificates.cost.forward_equivalents_per_point`` (multiply-accumulates spent in the linear
layers over those of one forward pass of one point; see ``robench/certify/work.py``); PGD passes are
forward + backward passes in samples, counted at the model by ``robench.core.counting.CountingModel``,
once at the threat's eps (robench's early stop ends the attack on points it has broken) and once at
eps 1e-6, where nothing breaks and all 20 steps are paid for ("full"). The attack suite's cost sits in
the same table: robench's ``standard`` suite (FGSM → PGD-7 → PGD-20 → PGD-100x2 → CW → AutoAttack, in
cascade, every output verified, no diagnostics) through the engine on the same points, per point
(``--suite none`` leaves it out; a robust point costs AutoAttack's Square 5,000 queries).

    python benchmarks/certify_cost.py                  # float64 bounds (certify's default), ~5 min
    python benchmarks/certify_cost.py --points 4 --skip wrn_28_10 --dtype float32
    python benchmarks/certify_cost.py --suite none      # bounds and PGD-20 only
"""

from __future__ import annotations

import argparse
import time

import torch
from torch import nn

from robench.attacks import build_attack
from robench.certify import certify
from robench.core.counting import CountingModel
from robench.data.base import ImageDataset
from robench.models import create_model
from robench.models.wrapper import Normalized
from robench.pipeline.evaluate import evaluate
from robench.threat import ThreatModel

CIFAR_MEAN, CIFAR_STD = [0.4914, 0.4822, 0.4465], [0.2471, 0.2435, 0.2616]
BIG = {
    "preact_resnet18": {},
    "resnet18": {},
    "wide_resnet-16-4": {"depth": 16, "width": 4},
    "wrn_28_10": {},
}


def random_cifar_model(name: str) -> nn.Module:
    torch.manual_seed(0)
    arch = name.split("-")[0]
    net = create_model(arch, num_classes=10, in_channels=3, **BIG[name])
    with torch.no_grad():
        for module in net.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.running_mean.uniform_(-0.1, 0.1), module.running_var.uniform_(0.5, 2.0)
                module.weight.uniform_(0.5, 1.5), module.bias.uniform_(-0.1, 0.1)
    model = Normalized(net, CIFAR_MEAN, CIFAR_STD).eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model


def digits_case(points: int):
    from robench.data import load_dataset
    from robench.models.loading import load_model

    model = load_model("digits/linf/pgd").module
    test = load_dataset("digits", "test")
    return model, test.images[:points], test.labels[:points], ThreatModel("linf", 0.3)


def cifar_case(name: str, points: int):
    model = random_cifar_model(name)
    x = torch.rand(points, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        y = model(x).argmax(1)
    return model, x, y, ThreatModel("linf", 8 / 255)


def pgd_cost(model, x, y, threat) -> tuple[float, float]:
    """(seconds, forward + backward passes) per point of one PGD-20 attack with robench's early stop."""
    counting = CountingModel(model)
    started = time.perf_counter()
    build_attack("pgd-20", threat)(counting, x, y, torch.arange(len(x)))
    passes = counting.forward_samples + counting.backward_samples
    return (time.perf_counter() - started) / len(x), passes / len(x)


def full_pgd_cost(model, x, y, threat) -> tuple[float, float]:
    """The same at eps 1e-6, where no point is ever misclassified: all 20 steps are paid for."""
    return pgd_cost(model, x, y, ThreatModel(threat.norm, 1e-6))


def suite_cost(model, x, y, threat, suite: str) -> tuple[float, float, float]:
    """(seconds, forward + backward passes, robust accuracy) per point of the suite as ``robench evaluate
    --no-diagnostics`` runs it (cascade and the suite's focus)."""
    if suite == "none":
        return float("nan"), float("nan"), float("nan")
    points = ImageDataset("bench", "test", x, y, torch.arange(len(x)), 10, (0.0,), (1.0,))
    record = evaluate(model, points, threat, suite=suite, diagnostics=False)
    cost = record.suite_cost
    return cost.seconds / len(x), cost.passes / len(x), record.robust_acc


def rows_for(label, model, x, y, threat, methods, dtype, batch, suite="standard"):
    pgd_seconds, pgd_passes = pgd_cost(model, x, y, threat)
    full_seconds, full_passes = full_pgd_cost(model, x, y, threat)
    suite_seconds, suite_passes, suite_robust = suite_cost(model, x, y, threat, suite)
    rows = []
    for method in methods:
        certs = certify(model, x, y, threat, method=method, dtype=dtype, batch_size=batch)
        rows.append(
            f"| {label} | {len(x)} | {method} | {certs.method} | {certs.cost.seconds_per_point:.3f} "
            f"| {certs.cost.forward_equivalents_per_point:,.1f} | {certs.certified_accuracy:.2f} "
            f"| {pgd_seconds:.3f} | {pgd_passes:.0f} | {full_seconds:.3f} | {full_passes:.0f} "
            f"| {suite_seconds:.3f} | {suite_passes:,.0f} | {suite_robust:.2f} |"
        )
        print(rows[-1], flush=True)
    return rows


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=4, help="points per 32x32 model (digits: twice this)")
    parser.add_argument("--skip", nargs="*", default=[], help="models to leave out, e.g. wrn_28_10")
    parser.add_argument("--dtype", choices=["float64", "float32"], default="float64")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--suite", default="standard", help="attack suite whose cost is shown, or none")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    dtype = getattr(torch, args.dtype)
    header = [
        f"bounds in {args.dtype}; threads {torch.get_num_threads()}",
        "",
        "| model | points | asked | ran | s / point | work / point (fwd-equiv.) | certified "
        "| PGD-20 s / point | PGD-20 passes / point | full PGD-20 s / point | full PGD-20 passes / point "
        f"| {args.suite} suite s / point | {args.suite} suite passes / point | suite robust |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    print("\n".join(header), flush=True)
    rows = rows_for("small_cnn (digits 1x8x8)", *digits_case(2 * args.points),
                    ("ibp", "crown-ibp", "crown"), dtype, 32, args.suite)  # fmt: skip
    for name in BIG:
        if name not in args.skip:
            rows += rows_for(f"{name} (32x32)", *cifar_case(name, args.points),
                             ("ibp", "crown"), dtype, args.points, args.suite)  # fmt: skip
    print("\n" + "\n".join(header + rows))


if __name__ == "__main__":
    main()
