"""Fixtures for the gate tests: hand-built evaluation records with known counts, and pytester."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from robench.core.cost import Cost
from robench.core.record import EvaluationResult, Flag, SampleResult, StageResult

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "leaderboard"))
from synthetic_records import digits_linf_record  # noqa: E402


def build_result(
    n: int = 100,
    clean: int = 90,
    robust: int = 40,
    *,
    eps: float = 0.3,
    flags: tuple[Flag, ...] = (),
    verdict: str = "reliable",
    suite: dict | None = None,
    model: str = "digits/linf/pgd",
) -> EvaluationResult:
    """A record with exactly `clean` clean-correct and `robust` robust points out of n."""
    assert 0 <= robust <= clean <= n
    samples = [
        SampleResult(
            index=5 * i,
            label=i % 10,
            clean_correct=i < clean,
            robust=i < robust,
            broken_by=("pgd-20" if robust <= i < clean else None),
        )
        for i in range(n)
    ]
    return digits_linf_record(
        model=model,
        checkpoint_sha256="ab" * 32,
        eps=eps,
        subset_sha256="cd" * 32,
        suite=suite or {"name": "quick", "version": 1, "attacks": ["fgsm", "pgd-20", "cw"]},
        stages=[StageResult("pgd-20", robust / n, clean, clean - robust, Cost(20 * clean, 20 * clean, 0.1))],
        samples=samples,
        flags=list(flags),
        verdict=verdict,
    )


@pytest.fixture
def make_result():
    return build_result


@pytest.fixture(scope="session")
def gate_store(tmp_path_factory):
    """One results store shared by the CLI and plugin tests: each zoo evaluation runs once, then is reused."""
    return tmp_path_factory.mktemp("gate-store") / "results.sqlite"
