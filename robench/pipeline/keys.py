"""An evaluation's suite, loaded once, and its results-store key, created once before anything runs (so a
stored result can be reused, and the engine carries the same key into the record)."""

from __future__ import annotations

import dataclasses

from robench.core.identity import EvaluationKey
from robench.engine.evaluation import load_definition
from robench.engine.identity import evaluation_key_of, suite_description
from robench.engine.settings import RunSettings
from robench.pipeline.target import Target


def with_suite_loaded(run: RunSettings) -> RunSettings:
    """``run`` with its suite loaded: a name or file becomes the Suite object (a file is read once, so the
    key and the engine see the same content); a Suite object or a list of attacks stays as it is."""
    definition = load_definition(run.suite, run.trust_code)
    if definition is None or definition is run.suite:
        return run
    return dataclasses.replace(run, suite=definition)


def evaluation_key(target: Target, run: RunSettings) -> EvaluationKey:
    """The key the evaluation of ``target`` under ``run`` (its suite loaded: ``with_suite_loaded``) is
    stored under: the engine's own function, without running the probe or the suite."""
    suite = suite_description(load_definition(run.suite, run.trust_code) or list(run.suite))
    return evaluation_key_of(target.points(run), target.threat, run, target.loaded.sha256, suite)
