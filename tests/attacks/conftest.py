"""Fixtures for the attack tests (toy models live in attack_toys.py)."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture
def digits_points(digits_test, tiny_digits_model):
    """The first 64 digits test points that the tiny model classifies correctly, with their seeds."""
    x, y = digits_test.images[:80], digits_test.labels[:80]
    with torch.no_grad():
        correct = tiny_digits_model(x).argmax(1) == y
    return x[correct][:64], y[correct][:64], digits_test.indices[:80][correct][:64]
