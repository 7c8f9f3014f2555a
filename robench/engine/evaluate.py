"""The evaluation API: clean pass, cascade of verified attack stages, record.

``evaluate(...)`` runs everything on one process. ``evaluate_shard(...)`` runs the same evaluation on one
shard of the points and returns its ``Outcome``; ``merge_shards(...)`` turns the shards' outcomes into
the record ``evaluate`` would have produced (every decision is per point and every seed per point, so
the merge is exact). ``evaluate_shard`` and ``diagnose`` take ``evaluate``'s keyword arguments.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from torch import nn

from robench.core.environment import environment
from robench.core.record import EvaluationResult
from robench.data.base import ImageDataset
from robench.engine.outcome import Outcome, merge_outcomes
from robench.engine.prepare import (
    EOT_SAMPLES,
    PROBE_POINTS,
    PreparedEvaluation,
    SuiteLike,
    as_state,
    auto_batch_size,
    check_threat,
    resolve_device,
    resolve_suite,
    shard_positions,
)
from robench.engine.runner import BLOCK_SIZE
from robench.engine.state import EvaluationState
from robench.errors import RobenchError
from robench.threat import ThreatModel

__all__ = [
    "BLOCK_SIZE",
    "EOT_SAMPLES",
    "PROBE_POINTS",
    "PreparedEvaluation",
    "auto_batch_size",
    "check_threat",
    "diagnose",
    "evaluate",
    "evaluate_shard",
    "merge_shards",
    "resolve_device",
    "resolve_suite",
    "shard_positions",
]


def evaluate(
    model: nn.Module,
    dataset: ImageDataset,
    threat: ThreatModel,
    *,
    suite: SuiteLike = "standard",
    n: int | None = None,
    seed: int = 0,
    batch_size: int | None = None,
    device: str = "cpu",
    independent: bool = False,
    diagnostics: bool = True,
    model_name: str = "model",
    checkpoint_sha256: str | None = None,
    state: EvaluationState | str | Path | None = None,
    block_size: int = BLOCK_SIZE,
) -> EvaluationResult:
    """Evaluate ``model`` on ``n`` points of ``dataset`` (deterministic subset for ``seed``) under ``threat``.

    ``state`` (an EvaluationState or a file path) makes the run resumable; it is cleared when done.
    ``block_size``: attacks with per-call randomness (AutoAttack, Square) are called on the survivors of
    each block of that many consecutive points, and shards are whole blocks (recorded in the config).
    """
    prepared = PreparedEvaluation(
        model, dataset, threat, suite=suite, n=n, seed=seed, batch_size=batch_size, device=device,
        independent=independent, model_name=model_name, checkpoint_sha256=checkpoint_sha256,
        block_size=block_size,
    )  # fmt: skip
    store = as_state(state)
    outcome = prepared.run(store)
    result = outcome.to_record(environment(prepared.device), prepared.extra())
    if diagnostics:
        prepared.diagnose(result)
    if store is not None:
        store.clear()
    return result


def evaluate_shard(
    model: nn.Module,
    dataset: ImageDataset,
    threat: ThreatModel,
    *,
    rank: int,
    world: int,
    state: EvaluationState | str | Path | None = None,
    **settings: Any,
) -> Outcome:
    """Run the evaluation on shard ``rank`` of ``world`` of the points; merge outcomes with merge_shards."""
    store = as_state(state)
    outcome = PreparedEvaluation(model, dataset, threat, **settings).run(store, shard=(rank, world))
    if store is not None:
        store.clear()
    return outcome


def merge_shards(
    outcomes: Sequence[Outcome | dict[str, Any]], *, device: str = "cpu", extra: dict[str, Any] | None = None
) -> EvaluationResult:
    """The record of the whole evaluation from its shards' outcomes (no diagnostics: verdict unchecked).

    ``extra``: entries the outcomes do not hold (``PreparedEvaluation.extra()``), added to the record's.
    """
    parts = [o if isinstance(o, Outcome) else Outcome.from_dict(o) for o in outcomes]
    try:
        merged = merge_outcomes(parts)
    except ValueError as exc:
        raise RobenchError(f"cannot merge shard results: {exc}") from None
    if len(merged.indices) != merged.config["n"]:
        raise RobenchError(f"shard results cover {len(merged.indices)} of {merged.config['n']} points")
    return merged.to_record(environment(device), extra)


def diagnose(
    result: EvaluationResult, model: nn.Module, dataset: ImageDataset, threat: ThreatModel, **settings: Any
) -> EvaluationResult:
    """Run the diagnostics on a finished record (e.g. one merged from shards), as ``evaluate`` does."""
    return PreparedEvaluation(model, dataset, threat, **settings).diagnose(result)
