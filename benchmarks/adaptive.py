"""Adaptive attacks on masked models with known answers: the number before and after, and the reference.

Each test model of tests/diagnostics/broken_models.py (``Masked``) wraps the zoo's PGD-trained digits CNN
(``digits/linf/pgd``) behind one masking defence: a decoy backward (through ``detach``, and through a
custom autograd function), input quantisation to 9 levels, binarisation, a detached input, saturated
logits (x 1e4), test-time Gaussian noise and test-time input dropout. For each, ``robench evaluate``'s API
(suite, diagnostics, escalation, adaptive stage) on ``--n`` digits test points at Linf eps 0.3, seed 0,
then the reference on the same points: pyautoattack standard through the true gradients (the honest
network itself: decoy, detach, saturate), through straight-through gradients written by hand (quantise,
binarise; verified on the true model), or AutoAttack's rand version with EOT (noise, dropout: one draw of
a random variable). Prints one markdown row per model: flags, robust accuracy before the adaptive stage,
after it, the reference, and the adaptive stage's cost (forward + backward passes, seconds).

    OMP_NUM_THREADS=1 python benchmarks/adaptive.py                     # n 300, fast suite
    OMP_NUM_THREADS=1 python benchmarks/adaptive.py --masks decoy,quantize --n 100 --suite quick
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "diagnostics"))
from broken_models import MASKS, Masked  # noqa: E402  (the test models have one home: the tests)

from robench.attacks import build_attack  # noqa: E402
from robench.attacks.external import quiet_external  # noqa: E402
from robench.core.record import ADAPTIVE  # noqa: E402
from robench.core.seeding import point_seeds, seeded_rng  # noqa: E402
from robench.core.verify import verify  # noqa: E402
from robench.data import load_dataset  # noqa: E402
from robench.models.loading import load_model  # noqa: E402
from robench.pipeline.evaluate import evaluate  # noqa: E402
from robench.threat import ThreatModel  # noqa: E402

THREAT = ThreatModel("linf", 0.3)
RANDOM = ("noise", "dropout")
STRAIGHT_THROUGH = ("quantize", "binarize")


def reference(model: Masked, result, data) -> float:
    """Robust accuracy on the record's points under AutoAttack through true or hand-written BPDA
    gradients (EOT for random masks), verified on the true masked model."""
    position = {int(index): p for p, index in enumerate(data.indices.tolist())}
    indices = torch.tensor([sample.index for sample in result.samples])
    rows = torch.tensor([position[int(index)] for index in indices])
    x, y = data.images[rows], data.labels[rows]
    target = model.net if model.mask not in RANDOM + STRAIGHT_THROUGH else model
    target = model.straight_through() if model.mask in STRAIGHT_THROUGH else target
    spec = "autoattack-rand" if model.mask in RANDOM else "autoattack"
    attack = build_attack(spec, THREAT)
    with quiet_external(x.device), seeded_rng("cpu", 0, "reference"):
        x_adv = attack(target, x, y, point_seeds(0, indices.tolist(), 0))
        broken = verify(model, x, x_adv, y, THREAT).broken
    clean = torch.tensor([sample.clean_correct for sample in result.samples])
    return float((clean & ~broken).float().mean())


def measure(mask: str, net, data, n: int, suite: str) -> dict:
    model = Masked(net, mask)
    start = time.perf_counter()
    result = evaluate(model, data, THREAT, suite=suite, n=n, seed=0)
    seconds = time.perf_counter() - start
    adaptive = [stage for stage in result.stages if stage.escalated_by == ADAPTIVE]
    evidence = next((f.evidence["adaptive"] for f in result.flags if "adaptive" in f.evidence), None)
    return {
        "mask": mask,
        "flags": sorted(f.code for f in result.flags if f.severity == "error"),
        "before": evidence["robust_acc_before"] if evidence else result.robust_acc,
        "after": result.robust_acc,
        "reference": reference(model, result, data),
        "passes": sum(stage.cost.passes for stage in adaptive),
        "seconds": sum(stage.cost.seconds for stage in adaptive),
        "total_seconds": seconds,
        "attacks": evidence["attacks"] if evidence else {},
        "replaced": (evidence or {}).get("bpda", {}).get("replaced", []),
        "verdict": result.verdict,
    }


def row(m: dict) -> str:
    attacks = ", ".join(f"{spec} {count}" for spec, count in m["attacks"].items()) or "-"
    return (
        f"| {m['mask']} | {', '.join(m['flags'])} | {m['before']:.1%} | {m['after']:.1%} | "
        f"{m['reference']:.1%} | {m['after'] - m['reference']:+.1%} | {attacks} | "
        f"{', '.join(m['replaced']) or '-'} | {m['passes']:,} | {m['seconds']:.0f} | "
        f"{m['total_seconds']:.0f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--masks", default=",".join(MASKS))
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--suite", default="fast")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    net = load_model("digits/linf/pgd").module
    data = load_dataset("digits", "test")
    print(f"suite {args.suite}, n {args.n}, torch threads {torch.get_num_threads()}")
    print(
        "| model | error flags | before | after | reference | after - ref | adaptive breaks | "
        "BPDA replaced | adaptive passes | adaptive s | total s |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for mask in args.masks.split(","):
        print(row(measure(mask, net, data, args.n, args.suite)), flush=True)


if __name__ == "__main__":
    main()
