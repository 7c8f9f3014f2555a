"""The results-store key of a request, derived before anything runs (so a stored result can be reused)."""

from __future__ import annotations

from robench.engine.evaluation import load_definition
from robench.engine.identity import EvaluationKey, evaluation_key_of, suite_description
from robench.engine.settings import RunSettings
from robench.pipeline.target import Target


def evaluation_key(target: Target, run: RunSettings) -> EvaluationKey:
    """The key the evaluation of ``target`` under ``run`` will be stored under (``EvaluationKey.of`` of
    its record): the same function the engine uses, without running the probe or the suite."""
    suite = suite_description(load_definition(run.suite, run.trust_code) or list(run.suite))
    return evaluation_key_of(target.points(run), target.threat, run, target.loaded.sha256, suite)
