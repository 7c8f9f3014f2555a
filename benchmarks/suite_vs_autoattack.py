"""The ``standard`` suite (cascade) vs pyautoattack's standard AutoAttack alone, on the same points.

Both run in this one process on the same adversarially trained digits model (models/digits/linf/pgd,
trained here if the card is missing) and the same n test points. Cost is counted at the model
(forward and backward passes in samples) and in wall-clock seconds. Targets: suite / AutoAttack
<= 1.10 in passes and seconds, and the suite's worst-case robust accuracy <= AutoAttack's.

    OMP_NUM_THREADS=1 python benchmarks/suite_vs_autoattack.py --n 200
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import torch

from robench.attacks.external import quiet_external
from robench.data import load_dataset
from robench.engine.counting import CountingModel
from robench.engine.evaluate import auto_batch_size, evaluate
from robench.threat import ThreatModel

TARGET = 1.10
WIDTHS = (12, 11, 9, 7, 11, 10, 9)


def load_or_train(card_id: str):
    from robench.errors import RobenchError
    from robench.models.loading import load_model

    try:
        return load_model(card_id)
    except RobenchError as exc:
        print(f"{card_id} not available ({exc}); training a quick PGD model instead")
    from robench.training.config import TrainConfig
    from robench.training.loop import train

    out = tempfile.mkdtemp(prefix="robench-bench-")
    train(TrainConfig(recipe="pgd", epochs=10, optimizer="adam", lr=3e-3, schedule="constant"), out)
    return load_model(os.path.join(out, "pgd.toml"))


def autoattack_alone(model, x, y, threat: ThreatModel, seed: int, batch_size: int):
    """pyautoattack standard on all points, as its users run it; passes counted at the model."""
    from pyautoattack import AutoAttack

    counted = CountingModel(model)
    norm = {"linf": "Linf", "l2": "L2"}[threat.norm]
    start = time.perf_counter()
    with quiet_external(x.device):
        runner = AutoAttack(
            counted, norm=norm, eps=threat.eps, version="standard", seed=seed, device=x.device
        )
        x_adv, _ = runner.run_standard_evaluation(x, y, batch_size=batch_size)
    seconds = time.perf_counter() - start
    with torch.no_grad():
        clean = model(x).argmax(1) == y
        robust = clean & (model(x_adv).argmax(1) == y) & threat.contains(x_adv, x)
    return robust, counted.count(), seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="digits/linf/pgd")
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--eps", default=None, help="default: the card's")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--suite", default="standard")
    args = parser.parse_args()

    loaded = load_or_train(args.model)
    card = loaded.card
    threat = ThreatModel.parse(card.threat if card else "linf", args.eps or (card.eps if card else 0.3))
    data = load_dataset(card.dataset if card else "digits").subset(args.n, args.seed)
    batch = auto_batch_size(data.input_shape, "cpu", len(data))
    threads = torch.get_num_threads()
    print(f"model {loaded.name} · {threat} · n={len(data)} · batch {batch} · torch threads {threads}")

    start = time.perf_counter()
    ours = evaluate(loaded.module, data, threat, suite=args.suite, seed=args.seed, diagnostics=False)
    ours_seconds = time.perf_counter() - start
    total = ours.extra["total_cost"]

    aa_robust, aa_count, aa_seconds = autoattack_alone(
        loaded.module, data.images, data.labels, threat, args.seed, batch
    )
    aa_acc = aa_robust.float().mean().item()

    header = ("stage", "robust acc", "attacked", "broken", "forward", "backward", "seconds")
    print(
        "\n"
        + "".join(
            f"{h:>{w}}" if i else f"{h:<12}" for i, (h, w) in enumerate(zip(header, WIDTHS, strict=True))
        )
    )
    clean = ours.extra["clean_cost"]
    print(f"{'clean':<12}{ours.clean_acc:>11.3f}{ours.n:>9}{'':>7}{clean['forward']:>11,}{clean['backward']:>10,}"
          f"{clean['seconds']:>9.2f}")  # fmt: skip
    for s in ours.stages:
        print(f"{s.attack:<12}{s.robust_acc:>11.3f}{s.attacked:>9}{s.broken:>7}{s.forward:>11,}{s.backward:>10,}"
              f"{s.seconds:>9.2f}")  # fmt: skip
    ladder = [s for s in ours.stages if not s.attack.startswith("autoattack")]
    ladder_passes = sum(s.forward + s.backward for s in ladder)
    ours_passes = total["forward"] + total["backward"]
    aa_passes = aa_count.forward + aa_count.backward
    print(f"\n{'':<22}{'forward':>11}{'backward':>11}{'passes':>12}{'seconds':>9}{'robust acc':>11}")
    print(f"{'robench ' + args.suite:<22}{total['forward']:>11,}{total['backward']:>11,}{ours_passes:>12,}"
          f"{ours_seconds:>9.1f}{ours.robust_acc:>11.3f}")  # fmt: skip
    print(f"{'pyautoattack standard':<22}{aa_count.forward:>11,}{aa_count.backward:>11,}{aa_passes:>12,}"
          f"{aa_seconds:>9.1f}{aa_acc:>11.3f}")  # fmt: skip
    pass_ratio, time_ratio = ours_passes / aa_passes, ours_seconds / aa_seconds
    print(f"\nratio passes  {pass_ratio:.3f}  ({'ok' if pass_ratio <= TARGET else 'ABOVE'} target {TARGET})")
    print(f"ratio seconds {time_ratio:.3f}  ({'ok' if time_ratio <= TARGET else 'ABOVE'} target {TARGET})")
    share = ladder_passes / aa_passes
    print(f"ladder before AutoAttack: {ladder_passes:,} passes = {share:.3f} x AutoAttack alone")
    for s in ladder:
        passes = s.forward + s.backward
        per_point = passes / max(s.attacked, 1)
        print(f"  {s.attack:<10} {passes / aa_passes:.3f} x AutoAttack, {per_point:,.0f} passes/point")
    robust_aa = int(aa_robust.sum())
    print(f"AutoAttack alone: {aa_passes / max(robust_aa, 1):,.0f} passes per point it leaves robust")
    ok = ours.robust_acc <= aa_acc
    verdict = "ok" if ok else "HIGHER"
    print(f"robust accuracy: robench {ours.robust_acc:.3f} vs AutoAttack {aa_acc:.3f} ({verdict})")
    ours_robust = torch.tensor([s.robust for s in ours.samples])
    print(
        f"points AutoAttack breaks but robench does not: {int((~aa_robust.cpu() & ours_robust).sum())}; "
        f"robench breaks but AutoAttack does not: {int((aa_robust.cpu() & ~ours_robust).sum())}"
    )


if __name__ == "__main__":
    main()
