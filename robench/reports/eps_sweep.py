"""Robust accuracy against eps: from the record's diagnostics when they measured it, else a cheap sweep.

The sweep (run by ``robench submit`` and stored with the result, or at report time when a record has
none) runs PGD-20 through the engine (every adversarial example verified) at
``SWEEP_FACTORS`` x the evaluated eps on ``SWEEP_N`` = 100 points (the deterministic subset for the
record's seed), diagnostics off. On digits that is well under a second per eps on a CPU core.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from robench.core.record import EvaluationResult

SWEEP_N = 100
SWEEP_ATTACK = "pgd-20"
SWEEP_FACTORS = (0.25, 0.5, 0.75, 1.0, 1.5, 2.0)


@dataclass(frozen=True)
class EpsCurve:
    eps: list[float]
    robust_acc: list[float]
    source: str  # where the numbers come from, shown on the plot


def _pairs(eps: Any, acc: Any) -> list[tuple[float, float]] | None:
    if not (isinstance(eps, list) and isinstance(acc, list) and len(eps) == len(acc) >= 2):
        return None
    if not all(isinstance(v, int | float) for v in eps + acc):
        return None
    return sorted(zip(map(float, eps), map(float, acc), strict=True))


def curve_from_record(result: EvaluationResult) -> EpsCurve | None:
    """An eps sweep stored with the record: ``extra['eps_sweep']`` (written by submit) or a diagnostic
    flag's evidence with lists ``eps`` and ``robust_acc`` (or ``acc``)."""
    candidates: list[tuple[str, dict[str, Any]]] = []
    stored = result.extra.get("eps_sweep")
    if isinstance(stored, dict):
        candidates.append((str(stored.get("source", "stored eps sweep")), stored))
    candidates += [
        (f"diagnostics ({f.code})", f.evidence) for f in result.flags if isinstance(f.evidence, dict)
    ]
    for source, data in candidates:
        pairs = _pairs(data.get("eps"), data.get("robust_acc", data.get("acc")))
        if pairs:
            return EpsCurve([p[0] for p in pairs], [p[1] for p in pairs], source)
    return None


def sweep(model, result: EvaluationResult, *, n: int = SWEEP_N) -> EpsCurve:
    """Run the cheap report-time sweep on ``model`` (an evaluation-ready nn.Module)."""
    from robench.data import load_dataset
    from robench.engine.evaluate import evaluate
    from robench.threat import ThreatModel

    dataset = load_dataset(result.dataset, result.split)
    n = min(n, len(dataset))
    limit = 1.0 if result.threat == "linf" else float("inf")
    values = sorted({min(limit, f * result.eps) for f in SWEEP_FACTORS})
    accuracies = []
    for eps in values:
        record = evaluate(
            model,
            dataset,
            ThreatModel(result.threat, eps),
            suite=[SWEEP_ATTACK],
            n=n,
            seed=result.seed,
            diagnostics=False,
            model_name=result.model,
        )
        accuracies.append(record.robust_acc)
    return EpsCurve(values, accuracies, f"{SWEEP_ATTACK} on n={n} points, engine-verified")
