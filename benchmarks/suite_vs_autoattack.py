"""The ``standard`` suite (cascade) vs pyautoattack's standard AutoAttack alone, on the same points.

Both run in this one process on the same adversarially trained digits model (models/digits/linf/pgd,
trained here if the card is missing) and the same n test points. Cost is counted at the model
(forward and backward passes in samples) and in seconds (CPU time of this process, and wall clock).
Targets: suite / AutoAttack <= 1.10 in passes and seconds; the suite's worst-case robust accuracy
<= AutoAttack's.

    OMP_NUM_THREADS=1 python benchmarks/suite_vs_autoattack.py --n 200
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import torch

from robench.attacks.external import quiet_external
from robench.core.counting import CountingModel
from robench.data import load_dataset
from robench.engine.evaluate import auto_batch_size, evaluate
from robench.threat import ThreatModel

TARGET = 1.10
WIDTHS = (12, 11, 9, 7, 9, 11, 10, 9)


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
    start, cpu = time.perf_counter(), time.process_time()
    with quiet_external(x.device):
        runner = AutoAttack(
            counted, norm=norm, eps=threat.eps, version="standard", seed=seed, device=x.device
        )
        x_adv, _ = runner.run_standard_evaluation(x, y, batch_size=batch_size)
    seconds = (time.perf_counter() - start, time.process_time() - cpu)
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

    start, cpu = time.perf_counter(), time.process_time()
    ours = evaluate(loaded.module, data, threat, suite=args.suite, seed=args.seed, diagnostics=False)
    ours_seconds = (time.perf_counter() - start, time.process_time() - cpu)
    aa_robust, aa_count, aa_seconds = autoattack_alone(
        loaded.module, data.images, data.labels, threat, args.seed, batch
    )
    report(ours, ours_seconds, aa_robust, aa_count, aa_seconds, args.suite, data.indices)


def _row(cells, widths=WIDTHS) -> str:
    return "".join(
        f"{c:<{w}}" if i == 0 else f"{c:>{w}}" for i, (c, w) in enumerate(zip(cells, widths, strict=True))
    )


def _verdict(ratio: float) -> str:
    return f"{ratio:.3f} ({'ok' if ratio <= TARGET else 'ABOVE'} target {TARGET})"


def report(ours, ours_seconds, aa_robust, aa_count, aa_seconds, suite, indices) -> None:
    print(
        "\n"
        + _row(("stage", "robust acc", "attacked", "broken", "rejected", "forward", "backward", "seconds"))
    )
    clean = ours.extra["clean_cost"]
    cost = (f"{clean['forward']:,}", f"{clean['backward']:,}", f"{clean['seconds']:.2f}")
    print(_row(("clean", f"{ours.clean_acc:.3f}", ours.n, "", "", *cost)))
    for s in ours.stages:
        print(_row((s.attack, f"{s.robust_acc:.3f}", s.attacked, s.broken, s.rejected, f"{s.forward:,}",
                    f"{s.backward:,}", f"{s.seconds:.2f}")))  # fmt: skip
    total = ours.extra["total_cost"]
    ours_passes = total["forward"] + total["backward"]
    aa_passes = aa_count.forward + aa_count.backward
    aa_acc = aa_robust.float().mean().item()
    widths = (22, 11, 11, 12, 9, 9, 11)
    print("\n" + _row(("", "forward", "backward", "passes", "wall s", "cpu s", "robust acc"), widths))
    rows = (
        (
            f"robench {Path(suite).stem}",
            total["forward"],
            total["backward"],
            ours_passes,
            ours_seconds,
            ours.robust_acc,
        ),
        ("pyautoattack standard", aa_count.forward, aa_count.backward, aa_passes, aa_seconds, aa_acc),
    )
    for name, forward, backward, passes, (wall, cpu), acc in rows:
        print(
            _row(
                (
                    name,
                    f"{forward:,}",
                    f"{backward:,}",
                    f"{passes:,}",
                    f"{wall:.1f}",
                    f"{cpu:.1f}",
                    f"{acc:.3f}",
                ),
                widths,
            )
        )
    print(f"\nratio passes       {_verdict(ours_passes / aa_passes)}")
    print(f"ratio cpu seconds  {_verdict(ours_seconds[1] / aa_seconds[1])}")
    print(f"ratio wall seconds {_verdict(ours_seconds[0] / aa_seconds[0])}  (noisy on a shared machine)")
    ladder = [s for s in ours.stages if not s.attack.startswith("autoattack")]
    ladder_passes = sum(s.forward + s.backward for s in ladder)
    share = ladder_passes / aa_passes
    print(f"ladder before AutoAttack: {ladder_passes:,} passes = {share:.3f} x AutoAttack alone")
    for s in ladder:
        passes = s.forward + s.backward
        per_point = passes / max(s.attacked, 1)
        print(f"  {s.attack:<10} {passes / aa_passes:.3f} x AutoAttack, {per_point:,.0f} passes/point")
    robust_aa = max(int(aa_robust.sum()), 1)
    print(f"AutoAttack alone: {aa_passes / robust_aa:,.0f} passes per point it leaves robust")
    verdict = "ok" if sum(x.robust for x in ours.samples) <= int(aa_robust.sum()) else "HIGHER"
    print(f"robust accuracy: robench {ours.robust_acc:.3f} vs AutoAttack {aa_acc:.3f} ({verdict})")
    ours_robust = torch.tensor([s.robust for s in ours.samples])
    missed = indices[~aa_robust.cpu() & ours_robust].tolist()
    extra = indices[aa_robust.cpu() & ~ours_robust].tolist()
    print(f"points AutoAttack breaks but robench does not: {missed}")
    print(f"points robench breaks but AutoAttack does not: {extra}")


if __name__ == "__main__":
    main()
