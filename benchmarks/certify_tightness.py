"""Tightness of IBP, CROWN-IBP and CROWN against the exact answer (MILP) on tiny ReLU networks.

For each network (seeded random weights; 1x4x4 inputs in [0, 1], labelled with the network's own
prediction) and each linf eps, ``robench.certify.exact_min_margin`` (scipy HiGHS, big-M ReLU encoding)
says which points are exactly robust; each bound's certified points must be among them (soundness: the
script exits 1 otherwise) and tightness = certified / exactly robust.

    python benchmarks/certify_tightness.py                  # 3 networks x 3 eps x 20 points, ~1 min
    python benchmarks/certify_tightness.py --points 50 --eps 0.02,0.05
"""

from __future__ import annotations

import argparse
import sys

import torch
from torch import nn

from robench.certify import certify, exact_min_margin
from robench.threat import ThreatModel

METHODS = ("ibp", "crown-ibp", "crown")


def dense(seed: int) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Flatten(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 12), nn.ReLU(), nn.Linear(12, 5)
    ).eval()


def convolutional(seed: int) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 4, 3, stride=2, padding=1), nn.ReLU(),
        nn.Flatten(), nn.Linear(16, 5),
    ).eval()  # fmt: skip


NETWORKS = {"dense 16-16-12-5": dense, "conv 4-4 + dense": convolutional}


def rows(points: int, epsilons: list[float], seeds: list[int]) -> tuple[list[list[str]], bool]:
    table, sound = [], True
    for label, build in NETWORKS.items():
        for seed in seeds:
            model = build(seed)
            x = torch.rand(points, 1, 4, 4, generator=torch.Generator().manual_seed(seed))
            with torch.no_grad():
                y = model(x).argmax(1)
            for eps in epsilons:
                threat = ThreatModel("linf", eps)
                exact = exact_min_margin(model, x, y, threat).robust
                cells = [label, str(seed), f"{eps:g}", str(int(exact.sum()))]
                for method in METHODS:
                    certified = certify(model, x, y, threat, method=method).certified
                    sound &= bool(exact[certified].all())
                    tight = int(certified.sum()) / max(int(exact.sum()), 1)
                    cells.append(f"{int(certified.sum())} ({tight:.0%})")
                table.append(cells)
                print("| " + " | ".join(cells) + " |", flush=True)
    return table, sound


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=20)
    parser.add_argument("--eps", default="0.02,0.05,0.1")
    parser.add_argument("--seeds", default="0,1")
    args = parser.parse_args(argv)
    print(f"{args.points} points per network; certified points (tightness = certified / exactly robust)\n")
    print("| network | seed | eps | exactly robust (MILP) | " + " | ".join(METHODS) + " |")
    print("|---|---:|---:|---:|" + "---:|" * len(METHODS))
    _, sound = rows(
        args.points, [float(e) for e in args.eps.split(",")], [int(s) for s in args.seeds.split(",")]
    )
    print(
        "\nsound: every certified point is exactly robust"
        if sound
        else "\nUNSOUND: a certified point is not robust"
    )
    sys.exit(0 if sound else 1)


if __name__ == "__main__":
    main()
