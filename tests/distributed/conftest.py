"""A small CNN trained on digits once per session, and its checkpoint as a real safetensors file."""

from __future__ import annotations

import pytest
from dist_workers import train_digits_cnn
from safetensors.torch import save_file


@pytest.fixture(scope="session")
def digits_weights():
    return train_digits_cnn(epochs=3)


@pytest.fixture(scope="session")
def digits_checkpoint(digits_weights, tmp_path_factory):
    path = tmp_path_factory.mktemp("distributed") / "cnn.safetensors"
    save_file(digits_weights, str(path))
    return path
