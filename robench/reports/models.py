"""Find what a report needs beyond the entry: the model (for a report-time eps sweep), the card's folder
(training log) and the command that reproduces the result. Only a card whose sha256 matches the entry's
checkpoint is used, so a report never mixes two models."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from robench.errors import RobenchError
from robench.leaderboard.entries import Entry


def report_inputs(entry: Entry, root: str | None = None) -> tuple[Any, Path | None, str | None]:
    """(evaluation-ready model or None, card folder or None, reproduce command or None)."""
    from robench.leaderboard.submit import submit_command_line
    from robench.models.cards import find_card
    from robench.models.loading import load_model

    result = entry.result
    try:
        card = find_card(f"{result.dataset}/{result.threat}/{entry.name}", root)
    except RobenchError:
        return None, None, None
    if card.sha256 != result.checkpoint_sha256 or not card.checkpoint_path.is_file():
        return None, None, None
    model = load_model(card).module
    return model, card.path.parent if card.path else None, submit_command_line(card, card.checkpoint_path)
