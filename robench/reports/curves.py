"""Robust accuracy against eps, as a report plots it: from the record, never by attacking.

A record carries a curve in ``extra['eps_sweep']`` (written by ``robench submit``, see
``robench.pipeline.sweep``) or in a diagnostic flag whose check declares one (``Check.curve``); the
certified accuracy at the same eps values, the lower side of the bracket, in ``extra['certified_sweep']``.
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
