"""Shared fixtures for every area's tests.

- ``digits_test`` (session): the digits test split, 360 real 1x8x8 images (robench.data.load_dataset).
- ``digits_train`` (session): the digits train split, 1,437 images.
- ``tiny_digits_checkpoint`` (session): path to a safetensors checkpoint of a ``small_cnn`` (width 16)
  trained for a few seconds on digits train with seed 0; its clean test accuracy is >= 90 %. Cached in
  a session temporary folder; a ``tiny.toml`` card (dataset digits, threat linf, eps 0.3, recipe
  standard, arch_kwargs {width = 16}) lies beside it.
- ``tiny_digits_card`` (session): that card (robench.models.cards.ModelCard).
- ``tiny_digits_model`` (session): the model loaded from that card through robench.models.loading
  (eval mode, parameter gradients off). Shared by all tests: do not modify it; call
  ``load_model(tiny_digits_card)`` for a private copy.

Also: ``ROBENCH_PROGRESS=0`` (no progress bars) and one torch thread per pytest-xdist worker (else at
most 2, or OMP_NUM_THREADS), so the suite behaves on small CI machines.
"""

from __future__ import annotations

import os

import pytest
import torch

os.environ["ROBENCH_PROGRESS"] = "0"
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ["OMP_NUM_THREADS"] = "1"  # the CLI's default threads follow it (robench.core.threads)
else:
    os.environ.setdefault("OMP_NUM_THREADS", str(min(2, os.cpu_count() or 1)))
torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))

pytest_plugins = ["pytester"]  # the gate tests run a user's test file through the plugin

TINY_WIDTH = 16
TINY_SEED = 0


@pytest.fixture(scope="session")
def digits_test():
    from robench.data import load_dataset

    return load_dataset("digits", "test")


@pytest.fixture(scope="session")
def digits_train():
    from robench.data import load_dataset

    return load_dataset("digits", "train")


def train_tiny_digits(train, *, epochs: int = 8, seed: int = TINY_SEED) -> torch.nn.Module:
    """A small_cnn fitted on digits train with Adam, deterministic for a seed (about 1 s on one core)."""
    from robench.models import create_model

    torch.manual_seed(seed)
    model = create_model("small_cnn", num_classes=10, in_channels=1, width=TINY_WIDTH)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    order = torch.Generator().manual_seed(seed)
    model.train()
    for _ in range(epochs):
        for batch in torch.randperm(len(train), generator=order).split(64):
            loss = torch.nn.functional.cross_entropy(model(train.images[batch]), train.labels[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return model.eval()


@pytest.fixture(scope="session")
def tiny_digits_card(tmp_path_factory, digits_train):
    from robench.models.cards import ModelCard, load_card, write_card
    from robench.models.checkpoint import save_checkpoint

    folder = tmp_path_factory.mktemp("tiny_digits")
    sha256 = save_checkpoint(train_tiny_digits(digits_train), folder / "tiny.safetensors")
    card = ModelCard(
        name="tiny",
        architecture="small_cnn",
        dataset="digits",
        num_classes=10,
        threat="linf",
        eps=0.3,
        mean=[0.0],
        std=[1.0],
        checkpoint="tiny.safetensors",
        sha256=sha256,
        recipe="standard",
        source="tests/conftest.py",
        arch_kwargs={"width": TINY_WIDTH},
        training={"epochs": 8, "seed": TINY_SEED, "optimizer": "adam"},
    )
    return load_card(write_card(card, folder / "tiny.toml"))


@pytest.fixture(scope="session")
def tiny_digits_checkpoint(tiny_digits_card):
    return tiny_digits_card.checkpoint_path


@pytest.fixture(scope="session")
def tiny_digits_model(tiny_digits_card):
    from robench.models.loading import load_model

    return load_model(tiny_digits_card).module
