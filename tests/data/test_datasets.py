"""Datasets: the digits split, and torchvision datasets read from real on-disk files under a local root."""

from __future__ import annotations

import hashlib
import pickle
import struct

import numpy as np
import pytest
import torch
from torchvision import datasets as tv

from robench.data import DATASETS, data_root, load_dataset
from robench.errors import DatasetNotFoundError, RobenchError


def test_digits_split_is_the_documented_one(digits_test, digits_train):
    from sklearn.datasets import load_digits

    bunch = load_digits()
    assert len(digits_test) == 360 and len(digits_train) == 1437
    assert bool((digits_test.indices % 5 == 0).all()) and bool((digits_train.indices % 5 != 0).all())
    row = int(digits_test.indices[7])
    assert torch.equal(digits_test.images[7, 0], torch.tensor(bunch.images[row], dtype=torch.float32) / 16)
    assert int(digits_test.labels[7]) == bunch.target[row]
    assert digits_test.images.shape[1:] == (1, 8, 8) and digits_test.images.dtype == torch.float32
    assert float(digits_test.images.min()) >= 0.0 and float(digits_test.images.max()) == 1.0


def test_subset_is_deterministic_and_ordered(digits_test):
    a, b = digits_test.subset(50, seed=3), digits_test.subset(50, seed=3)
    assert torch.equal(a.indices, b.indices) and a.subset_sha256() == b.subset_sha256()
    assert bool((a.indices[1:] > a.indices[:-1]).all())
    assert not torch.equal(a.indices, digits_test.subset(50, seed=4).indices)
    row = int((digits_test.indices == a.indices[0]).nonzero())
    assert torch.equal(a.images[0], digits_test.images[row])


def test_torchvision_datasets_are_registered_lazily():
    assert {"digits", "mnist", "cifar10", "cifar100", "svhn"} <= set(DATASETS.names())
    with pytest.raises(RobenchError, match="did you mean 'cifar10'"):
        load_dataset("cifar-10")


# --- a tiny CIFAR-10 in torchvision's on-disk format (cifar-10-batches-py, pickled batches) ---

CIFAR_FILES = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]


def _write_fake_cifar10(root, per_batch: int = 4) -> dict[str, np.ndarray]:
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    written = {}
    for number, name in enumerate(CIFAR_FILES):
        data = rng.integers(0, 256, size=(per_batch, 3072), dtype=np.uint8)  # rows: R plane, G, B
        labels = [(number + i) % 10 for i in range(per_batch)]
        filenames = [f"{name}_{i}.png" for i in range(per_batch)]
        batch = {"batch_label": name, "labels": labels, "data": data, "filenames": filenames}
        (folder / name).write_bytes(pickle.dumps(batch, protocol=2))
        written[name] = data
    names = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
    meta = {"label_names": names, "num_cases_per_batch": per_batch, "num_vis": 3072}
    (folder / "batches.meta").write_bytes(pickle.dumps(meta, protocol=2))
    return written


def _md5(path) -> str:
    return hashlib.md5(path.read_bytes(), usedforsecurity=False).hexdigest()


@pytest.fixture
def fake_cifar10(tmp_path, monkeypatch):
    """Fake files, with their checksums in place of the official ones (only verified files are read)."""
    written = _write_fake_cifar10(tmp_path)
    folder = tmp_path / "cifar-10-batches-py"
    monkeypatch.setattr(tv.CIFAR10, "train_list", [[n, _md5(folder / n)] for n in CIFAR_FILES[:5]])
    monkeypatch.setattr(tv.CIFAR10, "test_list", [["test_batch", _md5(folder / "test_batch")]])
    monkeypatch.setattr(tv.CIFAR10, "meta", {**tv.CIFAR10.meta, "md5": _md5(folder / "batches.meta")})
    return tmp_path, written


def test_cifar10_test_split_loads_through_torchvision(fake_cifar10, monkeypatch):
    root, written = fake_cifar10
    monkeypatch.setenv("ROBENCH_DATA", str(root))
    data = load_dataset("cifar10", "test")
    expected = torch.from_numpy(written["test_batch"]).reshape(4, 3, 32, 32).float() / 255
    assert data.images.shape == (4, 3, 32, 32) and data.images.dtype == torch.float32
    assert torch.equal(data.images, expected)
    assert data.labels.tolist() == [5, 6, 7, 8] and data.indices.tolist() == [0, 1, 2, 3]
    assert data.num_classes == 10 and len(data.mean) == 3 and data.mean[0] == pytest.approx(0.4914)


def test_cifar10_train_split_keeps_torchvision_order(fake_cifar10):
    root, written = fake_cifar10
    data = load_dataset("cifar10", "train", root=str(root))
    assert len(data) == 20 and data.indices.tolist() == list(range(20))
    third_batch_first = torch.from_numpy(written["data_batch_3"][0]).reshape(3, 32, 32).float() / 255
    assert torch.equal(data.images[8], third_batch_first) and int(data.labels[8]) == 2


def test_cifar10_file_that_is_not_official_is_refused_before_unpickling(tmp_path):
    _write_fake_cifar10(tmp_path)  # real format, but not the official files: checksums differ
    with pytest.raises(DatasetNotFoundError, match=r"test_batch is not the official CIFAR-10 file \(md5"):
        load_dataset("cifar10", "test", root=str(tmp_path))


def test_missing_cifar10_says_which_files_go_where(tmp_path):
    with pytest.raises(DatasetNotFoundError) as info:
        load_dataset("cifar10", "test", root=str(tmp_path))
    message = str(info.value)
    assert "\n" not in message
    assert str(tmp_path / "cifar-10-batches-py" / "test_batch") in message
    assert str(tmp_path / "cifar-10-batches-py" / "batches.meta") in message
    assert "CIFAR10('DATA_ROOT', train=False, download=True)" in message


def test_no_data_root_names_the_option_and_variable(monkeypatch):
    monkeypatch.delenv("ROBENCH_DATA", raising=False)
    assert data_root(None) is None
    with pytest.raises(DatasetNotFoundError, match="--data-root DIR or set ROBENCH_DATA"):
        load_dataset("svhn", "test")


def test_unknown_split_is_a_user_error(tmp_path):
    with pytest.raises(RobenchError, match="svhn has splits 'train', 'test', 'extra', not 'valid'"):
        load_dataset("svhn", "valid", root=str(tmp_path))


def _write_idx(path, array: np.ndarray) -> None:
    code = {1: 0x0801, 3: 0x0803}[array.ndim]
    path.write_bytes(struct.pack(">I", code) + struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes())


def test_mnist_reads_raw_idx_files(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    images = np.random.default_rng(1).integers(0, 256, size=(3, 28, 28), dtype=np.uint8)
    _write_idx(raw / "t10k-images-idx3-ubyte", images)
    _write_idx(raw / "t10k-labels-idx1-ubyte", np.array([7, 2, 1], dtype=np.uint8))
    _write_idx(raw / "train-images-idx3-ubyte", images[:1])
    _write_idx(raw / "train-labels-idx1-ubyte", np.array([4], dtype=np.uint8))
    data = load_dataset("mnist", "test", root=str(tmp_path))
    assert data.images.shape == (3, 1, 28, 28)
    assert torch.equal(data.images[:, 0], torch.from_numpy(images).float() / 255)
    assert data.labels.tolist() == [7, 2, 1] and data.mean == (0.1307,)
