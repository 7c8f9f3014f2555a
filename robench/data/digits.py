"""scikit-learn's bundled handwritten digits: 1,797 real 8x8 images, the embedded offline default.

Pixel values (0..16) are divided by 16 to lie in [0, 1]; labels are 0..9. The canonical index of a
sample is its row in ``sklearn.datasets.load_digits()``. Fixed split: rows with ``index % 5 == 0``
form the test split (360 images); all other rows form the train split (1,437 images).
"""

from __future__ import annotations

import torch

from robench.data.base import ImageDataset

TEST_EVERY = 5


def load_digits_dataset(split: str = "test", root: str | None = None) -> ImageDataset:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = torch.tensor(bunch.images, dtype=torch.float32).unsqueeze(1) / 16.0
    labels = torch.tensor(bunch.target, dtype=torch.int64)
    indices = torch.arange(labels.shape[0], dtype=torch.int64)
    is_test = indices % TEST_EVERY == 0
    if split == "test":
        keep = is_test
    elif split == "train":
        keep = ~is_test
    elif split == "all":
        keep = torch.ones_like(is_test)
    else:
        from robench.errors import RobenchError

        raise RobenchError(f"digits has splits 'train', 'test' and 'all', not '{split}'")
    return ImageDataset(
        name="digits",
        split=split,
        images=images[keep].contiguous(),
        labels=labels[keep],
        indices=indices[keep],
        num_classes=10,
        mean=(0.0,),
        std=(1.0,),
    )
