"""One board as a pandas DataFrame: one row per entry, ranked (robench.leaderboard.ranking).

Accuracies are fractions in [0, 1] (the CSV keeps them so); the md/html renderings show percentages.
Stage columns are ``acc:<attack spec>`` in the suite's order (FGSM, PGD-7, PGD-20, PGD-100, CW, AutoAttack
for the standard suite; a suite's focus stage is ``acc:<spec> (focus)``). ``certified_acc`` is the best
certified accuracy at the board's eps (a lower bound, the bound named in ``certified_by``), empty for an
entry without certificates; it never ranks. The ``suite*`` columns say which suite produced the row
(robench.leaderboard.suites).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from robench.core.cost import Cost
from robench.core.record import ADAPTIVE, FOCUS, EvaluationResult, Flag, StageResult, best_certificate
from robench.diagnostics.verdict import model_findings
from robench.leaderboard.entries import Entry
from robench.leaderboard.ranking import ranking, sort_key
from robench.leaderboard.suites import frame_columns

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
SUITE_COLUMNS = ("suite", "suite_digest", "suite_builtin", "suite_label", "suite_content")
TAIL_COLUMNS = ("forward", "backward", "passes", "seconds", "date", "sha256")
FOCUS_TAG = "(focus)"  # after a focus stage's spec: it attacked only the survivors closest to the boundary
ADAPTIVE_TAG = "(adaptive)"  # after an adaptive attack's spec: run because the gradients were found masked


def stage_label(spec: str) -> str:
    """``pgd-20`` -> ``PGD-20``, ``fgsm-rs`` -> ``FGSM-RS``, ``autoattack`` -> ``AutoAttack``."""
    return "-".join(_FAMILY_LABELS.get(part, part) for part in spec.split("-"))


@dataclass(frozen=True)
class LadderRow:
    stage: str
    robust_acc: float  # after this row
    attacked: int
    broken: int
    rejected: int
    cost: Cost


def row_name(stage: StageResult) -> str:
    """A stage's name in tables: its spec, tagged when it was the suite's focus or an adaptive attack."""
    tag = {FOCUS: FOCUS_TAG, ADAPTIVE: ADAPTIVE_TAG}.get(stage.escalated_by)
    return f"{stage.attack} {tag}" if tag else stage.attack


def ladder_rows(result: EvaluationResult) -> list[LadderRow]:
    """The record's rows in the order they ran: the suite's stages (its focus included), the diagnostics
    (if they ran), then each escalation stage."""

    def row(s):
        return LadderRow(row_name(s), s.robust_acc, s.attacked, s.broken, s.rejected, s.cost)

    rows = [row(s) for s in result.stages if s.before_diagnostics]
    if result.diagnostics is None:
        return rows
    after = [row(s) for s in result.stages if not s.before_diagnostics]
    diagnosed = after[0].robust_acc + after[0].broken / max(result.n, 1) if after else result.robust_acc
    clean = round(result.clean_acc * result.n)
    diagnostics = result.diagnostics
    rows.append(LadderRow(DIAGNOSTICS, diagnosed, clean, len(diagnostics.broken), 0, diagnostics.cost))
    return rows + after


def ladder(result: EvaluationResult) -> list[tuple[str, float]]:
    """(stage, accuracy after it) along ``ladder_rows``."""
    return [(row.stage, row.robust_acc) for row in ladder_rows(result)]


def stage_specs(entries: Sequence[Entry]) -> list[str]:
    """Every stage that appears on the board, in first-seen suite order."""
    specs: list[str] = []
    for entry in entries:
        specs += [name for name, _ in ladder(entry.result) if name not in specs]
    return specs


def _listed(flag: Flag) -> bool:
    """A flag the board's Flags column lists: errors and warnings about the evaluation (model findings
    have their own column)."""
    return flag.severity != "info" and not (flag.severity == "error" and flag.finding == "model")


def board_frame(entries: Sequence[Entry]) -> pd.DataFrame:
    ordered = sorted(entries, key=lambda e: sort_key(e.name, e.result))
    specs = stage_specs(ordered)
    rows = []
    for rank, entry in enumerate(ordered, start=1):
        result, card = entry.result, entry.card
        rank_by = ranking(result)
        cost = result.total_cost
        accuracies = dict(ladder(result))
        certified = best_certificate(result.certificates, result.eps)
        row = {
            "rank": rank,
            "model": entry.name,
            "architecture": card.get("architecture", ""),
            "recipe": card.get("recipe", ""),
            "clean_acc": result.clean_acc,
            "certified_acc": certified.certified_acc if certified is not None else None,
            "certified_by": certified.label if certified is not None else "",
            "robust_acc": result.robust_acc,
            "ranking_acc": rank_by.accuracy,
            "ranked_by": rank_by.basis,
        }
        row |= {f"{STAGE_PREFIX}{spec}": accuracies.get(spec) for spec in specs}
        row |= {
            "verdict": result.verdict,
            "model_findings": " ".join(model_findings(result.flags)),
            "flags": " ".join(sorted({f.code for f in result.flags if _listed(f)})),
            "eps": result.eps,
            "n": result.n,
            **frame_columns(result),
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
        "certified_acc",
        "certified_by",
        "robust_acc",
        "ranking_acc",
        "ranked_by",
    ]
    columns += [f"{STAGE_PREFIX}{s}" for s in specs]
    columns += ["verdict", "model_findings", "flags", "eps", "n", *SUITE_COLUMNS, *TAIL_COLUMNS]
    return pd.DataFrame(rows, columns=columns)
