"""Helpers that write datasets in real on-disk formats for the data tests."""

from __future__ import annotations

import os

import torch
from PIL import Image

QUANTISATION = 0.5 / 255  # digits are k/16; 8-bit PNGs store round(255 * k / 16)


def write_digits_pngs(folder, digits) -> None:
    """``folder/<label>/<canonical index:04d>.png``, one 8-bit grayscale PNG per digits image."""
    for image, label, index in zip(digits.images, digits.labels, digits.indices, strict=True):
        (folder / str(int(label))).mkdir(parents=True, exist_ok=True)
        pixels = (image[0] * 255).round().to(torch.uint8).numpy()
        Image.fromarray(pixels, mode="L").save(folder / str(int(label)) / f"{int(index):04d}.png")


def digits_order(paths) -> torch.Tensor:
    """Positions that put images written by write_digits_pngs back in digits' (canonical index) order."""
    return torch.argsort(torch.tensor([int(os.path.basename(p)[:4]) for p in paths]))
