"""The ranking rule (RANKING_RULE, also printed under every board): never rank by a flattering number."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from robench.core.record import EvaluationResult, Flag

RANKING_RULE = (
    "A reliable (or unchecked) entry is ranked by its worst-case robust accuracy: per point, the worst case "
    "over every stage of the suite.",
    "An unreliable entry (⚠) is ranked by the lowest robust accuracy known for it at the board's eps: its "
    "worst-case robust accuracy, or any lower accuracy a diagnostic measured at that eps and reported in "
    "its flag's evidence (keys ending in _acc; numbers measured at another eps or on clean inputs are not "
    "used). The 'Ranked by' column names that number; the author's reported number is never used.",
    "Ties: reliable before unchecked before unreliable, then higher clean accuracy, then name.",
)
_VERDICT_ORDER = {"reliable": 0, "unchecked": 1, "unreliable": 2}
# Evidence that is not a robust accuracy at the evaluated eps, whatever its name.
_NOT_ROBUST_AT_EPS = ("clean_acc", "train_acc", "noise_acc", "unbounded_acc")


@dataclass(frozen=True)
class Ranking:
    accuracy: float  # the number the entry is ranked by
    basis: str  # where that number comes from ("worst case" or "<flag code>: <evidence key>")


def _evidence_accuracies(flag: Flag, eps: float) -> Iterable[tuple[str, float]]:
    evidence = flag.evidence or {}
    measured_eps = evidence.get("eps")
    if isinstance(measured_eps, int | float) and abs(float(measured_eps) - eps) > 1e-9:
        return
    for key, value in evidence.items():
        if not key.endswith("_acc") or key in _NOT_ROBUST_AT_EPS or key.startswith("clean"):
            continue
        if isinstance(value, int | float) and not isinstance(value, bool) and 0.0 <= value <= 1.0:
            yield f"{flag.code}: {key}", float(value)


def ranking(result: EvaluationResult) -> Ranking:
    """The accuracy this result is ranked by, and its basis (see the module docstring)."""
    best = Ranking(result.robust_acc, "worst case")
    if result.verdict != "unreliable":
        return best
    for flag in result.flags:
        for basis, value in _evidence_accuracies(flag, float(result.eps)):
            if value < best.accuracy:
                best = Ranking(value, basis)
    return best


def sort_key(name: str, result: EvaluationResult) -> tuple[float, int, float, str]:
    return (-ranking(result).accuracy, _VERDICT_ORDER.get(result.verdict, 3), -result.clean_acc, name)
