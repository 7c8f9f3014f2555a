"""Robust accuracy against eps, as a report plots it: from the record, never by attacking.

A record carries a curve in ``extra['eps_sweep']`` (written by ``robench submit``, see
``robench.pipeline.sweep``) or in a diagnostic flag whose check declares one (``Check.curve``); the
certified accuracy at the same eps values, the lower side of the bracket, in ``extra['certified_sweep']``.
A model robench trained keeps its per-epoch validation accuracies in ``extra['training_curve']`` (read
from the training log at submission), so its report keeps its training curves wherever the model lives.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from robench.core.record import EvaluationResult
from robench.diagnostics.catalog import check_of


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
    """The record's stored eps sweep, else the first flag whose check measured one."""
    candidates: list[tuple[str, Any, Any]] = []
    stored = result.extra.get("eps_sweep")
    if isinstance(stored, dict):
        candidates.append(
            (str(stored.get("source", "stored eps sweep")), stored.get("eps"), stored.get("robust_acc"))
        )
    for flag in result.flags:
        check = check_of(flag.code)
        curve = check.eps_curve(flag) if check is not None else None
        if curve is not None:
            candidates.append((f"diagnostics ({flag.code})", *curve))
    for source, eps, acc in candidates:
        pairs = _pairs(eps, acc)
        if pairs:
            return EpsCurve([p[0] for p in pairs], [p[1] for p in pairs], source)
    return None


def certified_curve_from_record(result: EvaluationResult) -> EpsCurve | None:
    """The record's certified accuracy against eps (``robust_acc`` holds the certified accuracy)."""
    stored = result.extra.get("certified_sweep")
    if not isinstance(stored, dict):
        return None
    pairs = _pairs(stored.get("eps"), stored.get("certified_acc"))
    if not pairs:
        return None
    return EpsCurve([p[0] for p in pairs], [p[1] for p in pairs], str(stored.get("source", "certified")))


#: (training log column, legend label) of the training curves
TRAINING_COLUMNS = (("val_clean_acc", "clean"), ("val_fgsm_acc", "FGSM"), ("val_pgd_acc", "PGD"))


def training_curve_from_record(result: EvaluationResult) -> dict[str, list[float]] | None:
    """The training curve kept in the record, if it is well formed."""
    stored = result.extra.get("training_curve")
    if not isinstance(stored, dict) or not isinstance(stored.get("epoch"), list):
        return None
    columns = [c for c in ("epoch", *(c for c, _ in TRAINING_COLUMNS)) if isinstance(stored.get(c), list)]
    lengths = {len(stored[c]) for c in columns}
    return {c: stored[c] for c in columns} if len(columns) >= 2 and len(lengths) == 1 else None
