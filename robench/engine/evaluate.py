"""The engine's API: the clean pass and the cascade of verified attack stages, into a record.

``evaluate(...)`` runs every point in one process. A shard is ``Evaluation.run(state, shard=(rank,
world))``, which returns its ``Outcome``; ``merge_shards(...)`` turns the shards' outcomes into the record
``evaluate`` would have produced (every decision is per point and every seed per point, so the merge is
exact). Diagnostics are not the engine's: ``robench.pipeline`` runs them on the record.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from torch import nn

from robench.core.environment import environment
from robench.core.record import EvaluationResult
from robench.data.base import ImageDataset
from robench.engine.evaluation import Evaluation
from robench.engine.outcome import Outcome, merge_outcomes
from robench.engine.settings import RunSettings
from robench.engine.state import EvaluationState, FileState
from robench.errors import RobenchError
from robench.models.wrapper import kept_as_it_was
from robench.threat import ThreatModel


def as_state(state: EvaluationState | str | Path | None) -> EvaluationState | None:
    """An EvaluationState as given, or a FileState for a path."""
    if state is None or isinstance(state, EvaluationState):
        return state
    return FileState(state)


def evaluate(
    model: nn.Module,
    dataset: ImageDataset,
    threat: ThreatModel,
    settings: RunSettings | None = None,
    *,
    model_name: str = "model",
    checkpoint_sha256: str | None = None,
    state: EvaluationState | str | Path | None = None,
) -> EvaluationResult:
    """Run the suite of ``settings`` on ``settings.n`` points of ``dataset`` (the deterministic subset for
    the seed) under ``threat``; the record's verdict is "unchecked" (no diagnostics here).

    ``state`` (an EvaluationState or a file path) makes the run resumable; the caller clears it once the
    record is safely kept.
    """
    with kept_as_it_was(model):  # the caller's module: its modes and requires_grad put back
        evaluation = Evaluation(
            model,
            dataset,
            threat,
            settings or RunSettings(),
            model_name=model_name,
            checkpoint_sha256=checkpoint_sha256,
        )
        outcome = evaluation.run(as_state(state))
        return outcome.to_record(environment(evaluation.device), **evaluation.details())


def merge_shards(
    outcomes: Sequence[Outcome | dict[str, Any]],
    *,
    device: str = "cpu",
    details: dict[str, Any] | None = None,
) -> EvaluationResult:
    """The record of the whole evaluation from its shards' outcomes (no diagnostics: verdict unchecked).

    ``details``: record fields the outcomes do not hold (``Evaluation.details()``).
    """
    parts = [o if isinstance(o, Outcome) else Outcome.from_dict(o) for o in outcomes]
    try:
        merged = merge_outcomes(parts)
    except ValueError as exc:
        raise RobenchError(f"cannot merge shard results: {exc}") from None
    if len(merged.indices) != merged.n:
        raise RobenchError(f"shard results cover {len(merged.indices)} of {merged.n} points")
    return merged.to_record(environment(device), **(details or {}))
