"""Synthetic records (tests/leaderboard/synthetic_records.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "leaderboard"))
from synthetic_records import build_result  # noqa: E402


@pytest.fixture
def make_result():
    return build_result
