"""Synthetic records (tests/leaderboard/synthetic_records.py) and a store in tmp_path."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "leaderboard"))
from synthetic_records import build_result  # noqa: E402


@pytest.fixture
def make_result():
    return build_result


@pytest.fixture
def store(tmp_path):
    from robench.store import ResultsStore

    with ResultsStore(tmp_path / "results.sqlite") as opened:
        yield opened
