"""Synthetic records (synthetic_records.py) and a leaderboards folder in tmp_path."""

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
def board_root(tmp_path, monkeypatch):
    root = tmp_path / "leaderboards"
    monkeypatch.setenv("ROBENCH_LEADERBOARDS", str(root))
    return root
