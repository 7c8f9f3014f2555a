"""The shared tiny digits CNN (tests/conftest.py) as a real safetensors checkpoint and its weights."""

from __future__ import annotations

import pytest
from safetensors.torch import load_file


@pytest.fixture(scope="session")
def digits_checkpoint(tiny_digits_checkpoint):
    return tiny_digits_checkpoint


@pytest.fixture(scope="session")
def digits_weights(digits_checkpoint):
    return load_file(str(digits_checkpoint))
