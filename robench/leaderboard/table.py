"""One board as a pandas DataFrame: one row per entry, ranked (robench.leaderboard.ranking).

Accuracies are fractions in [0, 1] (the CSV keeps them so); the md/html renderings show percentages.
Stage columns are ``acc:<attack spec>`` in the suite's order (FGSM, PGD-7, PGD-20, PGD-100, CW, AutoAttack
for the standard suite).
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from robench.core.record import EvaluationResult
from robench.leaderboard.entries import Entry
from robench.leaderboard.ranking import ranking, sort_key

_FAMILY_LABELS = {
    "fgsm": "FGSM",
    "pgd": "PGD",
    "cw": "CW",
    "autoattack": "AutoAttack",
    "apgd": "APGD",
    "square": "Square",
    "fab": "FAB",
    "rs": "RS",
    "diagnostics": "Diagnostics",
}
STAGE_PREFIX = "acc:"
DIAGNOSTICS = "diagnostics"


def stage_label(spec: str) -> str:
    """``pgd-20`` -> ``PGD-20``, ``fgsm-rs`` -> ``FGSM-RS``, ``autoattack`` -> ``AutoAttack``."""
    return "-".join(_FAMILY_LABELS.get(part, part) for part in spec.split("-"))


def ladder(result: EvaluationResult) -> list[tuple[str, float]]:
    """(stage, accuracy after it) along the suite, then the diagnostics' final worst case if they ran."""
    rows = [(s.attack, s.robust_acc) for s in result.stages]
    return rows + [(DIAGNOSTICS, result.robust_acc)] if result.diagnostics is not None else rows


def stage_specs(entries: Sequence[Entry]) -> list[str]:
    """Every stage that appears on the board, in first-seen suite order."""
    specs: list[str] = []
    for entry in entries:
        specs += [name for name, _ in ladder(entry.result) if name not in specs]
    return specs


def board_frame(entries: Sequence[Entry]) -> pd.DataFrame:
    ordered = sorted(entries, key=lambda e: sort_key(e.name, e.result))
    specs = stage_specs(ordered)
    rows = []
    for rank, entry in enumerate(ordered, start=1):
        result, card = entry.result, entry.card
        rank_by = ranking(result)
        cost = result.total_cost
        accuracies = dict(ladder(result))
        row = {
            "rank": rank,
            "model": entry.name,
            "architecture": card.get("architecture", ""),
            "recipe": card.get("recipe", ""),
            "clean_acc": result.clean_acc,
            "robust_acc": result.robust_acc,
            "ranking_acc": rank_by.accuracy,
            "ranked_by": rank_by.basis,
        }
        row |= {f"{STAGE_PREFIX}{spec}": accuracies.get(spec) for spec in specs}
        row |= {
            "verdict": result.verdict,
            "flags": " ".join(sorted({f.code for f in result.flags if f.severity != "info"})),
            "eps": result.eps,
            "n": result.n,
            "suite": f"{result.suite.get('name')}@{result.suite.get('version')}",
            "forward": cost.forward,
            "backward": cost.backward,
            "passes": cost.passes,
            "seconds": round(cost.seconds, 2),
            "date": result.created[:10],
            "sha256": (result.checkpoint_sha256 or "")[:12],
        }
        rows.append(row)
    columns = [
        "rank",
        "model",
        "architecture",
        "recipe",
        "clean_acc",
        "robust_acc",
        "ranking_acc",
        "ranked_by",
    ]
    columns += [f"{STAGE_PREFIX}{s}" for s in specs]
    columns += ["verdict", "flags", "eps", "n", "suite", "forward", "backward", "passes", "seconds", "date"]
    return pd.DataFrame(rows, columns=[*columns, "sha256"])
