"""The ranking rule (RANKING_RULE, also printed under every board): never rank by a flattering number."""

from __future__ import annotations

from dataclasses import dataclass

from robench.core.record import EvaluationResult
from robench.diagnostics.catalog import check_of

RANKING_RULE = (
    "A reliable (or unchecked) entry is ranked by its worst-case robust accuracy: per point, the worst case "
    "over every stage of the suite. A model finding (the model itself is broken; its number stands) changes "
    "neither the verdict nor the ranking.",
    "An unreliable entry (⚠) is ranked by the lowest robust accuracy known for it at the board's eps: its "
    "worst-case robust accuracy, or any lower robust accuracy a diagnostic measured at that eps and "
    "reported in its flag's evidence (each check declares which evidence holds such a bound; numbers "
    "measured at another eps or on clean inputs are not used). The 'Ranked by' column names that number; "
    "the author's reported number is never used.",
    "Ties: reliable before unchecked before unreliable, then higher clean accuracy, then name.",
)
_VERDICT_ORDER = {"reliable": 0, "unchecked": 1, "unreliable": 2}


@dataclass(frozen=True)
class Ranking:
    accuracy: float  # the number the entry is ranked by
    basis: str  # where that number comes from ("worst case" or "<flag code>: <evidence key>")


def ranking(result: EvaluationResult) -> Ranking:
    """The accuracy this result is ranked by, and its basis (see the module docstring)."""
    best = Ranking(result.robust_acc, "worst case")
    if result.verdict != "unreliable":
        return best
    for flag in result.flags:
        check = check_of(flag.code)
        if check is None:
            continue
        for key, value in check.robust_bounds(flag, float(result.eps)):
            if value < best.accuracy:
                best = Ranking(value, f"{flag.code}: {key}")
    return best


def sort_key(name: str, result: EvaluationResult) -> tuple[float, int, float, str]:
    return (-ranking(result).accuracy, _VERDICT_ORDER.get(result.verdict, 3), -result.clean_acc, name)
