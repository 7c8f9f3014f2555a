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


def stage_label(spec: str) -> str:
    """``pgd-20`` -> ``PGD-20``, ``fgsm-rs`` -> ``FGSM-RS``, ``autoattack`` -> ``AutoAttack``."""
    return "-".join(_FAMILY_LABELS.get(part, part) for part in spec.split("-"))


def evaluation_cost(result: EvaluationResult) -> tuple[int, int, float]:
    """(forward, backward, seconds) of the whole evaluation: clean pass, every stage, and the diagnostics
    (the engine's ``total_cost`` covers clean + suite; the diagnostics add a stage row of their own)."""
    total = result.extra.get("total_cost")
    stages = result.stages
    if isinstance(total, dict) and {"forward", "backward", "seconds"} <= total.keys():
        stages = [s for s in stages if s.attack == "diagnostics"]
        base = int(total["forward"]), int(total["backward"]), float(total["seconds"])
    else:
        base = 0, 0, 0.0
    return (
        base[0] + sum(s.forward for s in stages),
        base[1] + sum(s.backward for s in stages),
        base[2] + sum(s.seconds for s in stages),
    )


def stage_specs(entries: Sequence[Entry]) -> list[str]:
    """Every stage that appears on the board, in first-seen suite order."""
    specs: list[str] = []
    for entry in entries:
        specs += [s.attack for s in entry.result.stages if s.attack not in specs]
    return specs


def board_frame(entries: Sequence[Entry]) -> pd.DataFrame:
    ordered = sorted(entries, key=lambda e: sort_key(e.name, e.result))
    specs = stage_specs(ordered)
    rows = []
    for rank, entry in enumerate(ordered, start=1):
        result, card = entry.result, entry.card
        rank_by = ranking(result)
        forward, backward, seconds = evaluation_cost(result)
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
        row |= {f"{STAGE_PREFIX}{spec}": result.stage_acc(spec) for spec in specs}
        row |= {
            "verdict": result.verdict,
            "flags": " ".join(sorted({f.code for f in result.flags if f.severity != "info"})),
            "eps": result.eps,
            "n": result.n,
            "suite": f"{result.suite.get('name')}@{result.suite.get('version')}",
            "forward": forward,
            "backward": backward,
            "passes": forward + backward,
            "seconds": round(seconds, 2),
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
