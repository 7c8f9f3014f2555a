"""Regenerate a model's report from its leaderboard entry: find its card (for the training log, the
command that reproduces it and, when the record has no eps sweep, the model to sweep). Only a card whose
sha256 matches the entry's checkpoint is used, so a report never mixes two models."""

from __future__ import annotations

import os

from robench.errors import RobenchError
from robench.leaderboard.entries import Entry
from robench.models.cards import ModelCard, find_card
from robench.models.loading import load_model
from robench.pipeline.submit import submit_command_line
from robench.pipeline.sweep import report_curve
from robench.reports.build import ReportFiles, write_report


def matching_card(entry: Entry, models_root: str | None = None) -> ModelCard | None:
    """The card of this entry's checkpoint under the models root, or None."""
    result = entry.result
    try:
        card = find_card(f"{result.dataset}/{result.threat}/{entry.name}", models_root)
    except RobenchError:
        return None
    if card.sha256 != result.checkpoint_sha256 or not card.checkpoint_path.is_file():
        return None
    return card


def regenerate_report(entry: Entry, reports: str | os.PathLike | None = None) -> ReportFiles:
    """Write the entry's report (md + html + figures) under ``reports``."""
    card = matching_card(entry)
    if card is None:
        return write_report(entry, curve=report_curve(None, entry.result), root=reports)
    model = load_model(card).module
    return write_report(
        entry,
        curve=report_curve(model, entry.result),
        card_dir=card.path.parent if card.path else None,
        command=submit_command_line(card, card.checkpoint_path),
        root=reports,
    )
