"""The shipped digits/linf/pgd model predicts the same on digits stored as .npz, as 8-bit PNGs and as is."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from data_files import QUANTISATION, digits_order, write_digits_pngs

from robench.data import load_dataset


@pytest.fixture(scope="module")
def pgd_model():
    from robench.models.loading import load_model

    return load_model("digits/linf/pgd").module


def logits_of(model, images: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return model(images)


def test_npz_digits_give_identical_logits(tmp_path, digits_test, pgd_model):
    np.savez(tmp_path / "d.npz", images=digits_test.images.numpy(), labels=digits_test.labels.numpy())
    stored = load_dataset(f"file:{tmp_path / 'd.npz'}")
    assert torch.equal(logits_of(pgd_model, stored.images), logits_of(pgd_model, digits_test.images))


def test_png_digits_keep_every_clean_prediction(tmp_path, digits_test, pgd_model):
    write_digits_pngs(tmp_path / "png", digits_test)
    folder = load_dataset(f"folder:{tmp_path / 'png'}")
    images = folder.materialize().images[digits_order(folder.images.paths)]
    assert (images - digits_test.images).abs().max().item() <= QUANTISATION + 1e-7
    quantised, exact = logits_of(pgd_model, images), logits_of(pgd_model, digits_test.images)
    assert torch.equal(quantised.argmax(1), exact.argmax(1))  # measured: 0 of 360 predictions change
    assert (quantised - exact).abs().max().item() < 0.1  # measured: 0.035
