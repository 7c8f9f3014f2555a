"""The results-store key of a request, derived before anything runs (so a stored result can be reused)."""

from __future__ import annotations

from robench.engine.identity import EvaluationKey, evaluation_key_of
from robench.engine.settings import RunSettings
from robench.pipeline.target import Target


def evaluation_key(target: Target, run: RunSettings) -> EvaluationKey:
    """The key the evaluation of ``target`` under ``run`` will be stored under (``EvaluationKey.of`` of
    its record): the same function the engine uses, without running the probe or the suite."""
    return evaluation_key_of(target.points(run), target.threat, run, target.loaded.sha256)
