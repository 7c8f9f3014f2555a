"""Fixtures for the diagnostics tests: evaluate a model (suite + diagnostics) through the engine."""

from __future__ import annotations

import pytest
from broken_models import THREAT

from robench.pipeline.evaluate import evaluate


@pytest.fixture(scope="session")
def run_evaluation(digits_test):
    """``run_evaluation(model, suite=..., n=...) -> EvaluationResult`` with diagnostics on."""

    def run(model, *, suite="quick", n=60, threat=THREAT, **kwargs):
        return evaluate(model, digits_test, threat, suite=suite, n=n, seed=0, **kwargs)

    return run


@pytest.fixture(scope="session")
def tiny_net(tiny_digits_model):
    """The shared tiny digits CNN as an nn.Sequential (unwrapped when normalisation wraps it)."""
    return getattr(tiny_digits_model, "net", tiny_digits_model)
