"""fashion-mnist: IDX files (raw or .gz) from the data root's torchvision layout, else Debian's package.

Tiny datasets in the real IDX format are written here; one test reads the real files, which CI installs
(``apt-get install dataset-fashion-mnist``): with ``CI=true`` their absence fails the test.
"""

from __future__ import annotations

import gzip
import os
import struct

import numpy as np
import pytest
import torch

from robench.data import default_eps, load_dataset
from robench.data import fashion_mnist as fm
from robench.errors import DatasetNotFoundError, RobenchError

# sha256 (robench.data.ImageDataset.fingerprint) of the official 10,000 test images and labels
REAL_TEST_FINGERPRINT = "3fccc947ab175f526b02d0833875168fd6c36e52ed49100164d7f40da5382a87"


def _idx(array: np.ndarray) -> bytes:
    code = {1: 0x0801, 3: 0x0803}[array.ndim]
    return struct.pack(">I", code) + struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes()


def write_split(folder, prefix: str, images: np.ndarray, labels: np.ndarray, compress: bool) -> None:
    """``folder/<prefix>-images-idx3-ubyte[.gz]`` and ``...-labels-idx1-ubyte[.gz]`` as Zalando ships them."""
    folder.mkdir(parents=True, exist_ok=True)
    for kind, array in (("images-idx3", images), ("labels-idx1", labels)):
        path = folder / f"{prefix}-{kind}-ubyte{'.gz' if compress else ''}"
        path.write_bytes(gzip.compress(_idx(array)) if compress else _idx(array))


def _tiny(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), rng.integers(0, 10, n, dtype=np.uint8)


@pytest.fixture
def no_debian(tmp_path, monkeypatch):
    """Debian's folder replaced by an empty one, so only what a test writes exists."""
    folder = tmp_path / "debian"
    monkeypatch.setattr(fm, "DEBIAN_DIR", str(folder))
    monkeypatch.delenv("ROBENCH_DATA", raising=False)
    return folder


@pytest.mark.parametrize("compress", [False, True])
def test_torchvision_layout_under_the_data_root_is_read_exactly(tmp_path, no_debian, compress):
    images, labels = _tiny(5, 0)
    write_split(tmp_path / "FashionMNIST" / "raw", "t10k", images, labels, compress)
    data = load_dataset("fashion-mnist", "test", root=str(tmp_path))
    assert data.images.shape == (5, 1, 28, 28) and data.images.dtype == torch.float32
    assert torch.equal(data.images[:, 0], torch.from_numpy(images).float() / 255)
    assert data.labels.tolist() == labels.tolist() and data.indices.tolist() == [0, 1, 2, 3, 4]
    assert (data.name, data.num_classes, data.mean, data.std) == ("fashion-mnist", 10, (0.2860,), (0.3530,))
    assert default_eps("fashion-mnist", "linf") == 0.1


def test_data_root_comes_first_then_debian(tmp_path, no_debian, monkeypatch):
    root_images, root_labels = _tiny(3, 1)
    deb_images, deb_labels = _tiny(4, 2)
    write_split(no_debian, "train", deb_images, deb_labels, compress=True)
    assert torch.equal(load_dataset("fashion-mnist", "train").labels, torch.from_numpy(deb_labels).long())
    write_split(tmp_path / "root" / "FashionMNIST" / "raw", "train", root_images, root_labels, False)
    monkeypatch.setenv("ROBENCH_DATA", str(tmp_path / "root"))
    assert len(load_dataset("fashion-mnist", "train")) == 3  # ROBENCH_DATA before Debian's folder
    assert len(load_dataset("fashion-mnist", "train", root=str(tmp_path / "none"))) == 4  # root lacks it


def test_missing_data_is_one_sentence_naming_both_ways_to_get_it(tmp_path, no_debian):
    with pytest.raises(DatasetNotFoundError) as info:
        load_dataset("fashion-mnist", "test", root=str(tmp_path))
    message = str(info.value)
    assert "\n" not in message and message.count(". ") == 0
    assert "apt-get install dataset-fashion-mnist" in message
    assert "FashionMNIST('DATA_ROOT', train=False, download=True)" in message and "--data-root" in message
    assert str(tmp_path / "FashionMNIST" / "raw") in message and str(no_debian) in message


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        (lambda b: b"\x00\x00\x08\x01" + b[4:], r"is not an IDX images file"),
        (lambda b: b[:-7], r"is truncated or padded"),
        (
            lambda b: b[:4] + struct.pack(">3I", 2, 28, 27) + b[16:],
            r"28x27 images, not Fashion-MNIST's 28x28",
        ),
        (lambda b: b"\x1f\x8b" + b[2:], r"cannot read Fashion-MNIST file"),
    ],
)
def test_damaged_files_are_user_errors(tmp_path, no_debian, damage, expected):
    images, labels = _tiny(2, 3)
    raw = tmp_path / "FashionMNIST" / "raw"
    write_split(raw, "t10k", images, labels, compress=False)
    path = raw / "t10k-images-idx3-ubyte"
    data = damage(path.read_bytes())
    if data.startswith(b"\x1f\x8b"):  # a broken gzip stream in a .gz file
        path.unlink()
        path = raw / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(data)
    with pytest.raises(RobenchError, match=expected):
        load_dataset("fashion-mnist", "test", root=str(tmp_path))


def test_labels_and_sizes_are_checked(tmp_path, no_debian, monkeypatch):
    images, labels = _tiny(3, 4)
    raw = tmp_path / "FashionMNIST" / "raw"
    write_split(raw, "t10k", images, np.array([1, 2, 10], dtype=np.uint8), compress=False)
    with pytest.raises(RobenchError, match="holds label 10; Fashion-MNIST's are 0-9"):
        load_dataset("fashion-mnist", "test", root=str(tmp_path))
    write_split(raw, "t10k", images, labels[:2], compress=False)
    with pytest.raises(RobenchError, match="holds 3 images but .* 2 labels"):
        load_dataset("fashion-mnist", "test", root=str(tmp_path))
    monkeypatch.setattr(fm, "MAX_IMAGES", 2)  # a file that expands past a split's size is refused
    write_split(raw, "t10k", images, labels, compress=True)
    (raw / "t10k-images-idx3-ubyte").unlink()
    with pytest.raises(RobenchError, match=r"holds more than the 1,584 bytes"):
        load_dataset("fashion-mnist", "test", root=str(tmp_path))
    with pytest.raises(RobenchError, match="fashion-mnist has splits 'train' and 'test', not 'all'"):
        load_dataset("fashion-mnist", "all", root=str(tmp_path))


def test_evaluation_record_names_the_data_and_its_fingerprint(tmp_path, no_debian):
    """Default eps 0.1, a registered certified-training layout, and the fingerprint of the points."""
    from robench import evaluate
    from robench.models import create_model

    images, labels = _tiny(6, 5)
    write_split(tmp_path / "FashionMNIST" / "raw", "t10k", images, labels, compress=True)
    torch.manual_seed(0)
    net = create_model("wk_small_mnist", 10, 1).eval()
    result = evaluate(net, "fashion-mnist", "linf", data_root=str(tmp_path), suite="quick", diagnostics=False)
    data = load_dataset("fashion-mnist", "test", root=str(tmp_path))
    assert result.eps == 0.1 and result.dataset == "fashion-mnist" and result.n == 6
    assert result.key.data_fingerprint == data.fingerprint()
    assert result.to_dict()["data_info"]["fingerprint"] == data.fingerprint()  # where the JSON keeps it


def test_real_fashion_mnist_files():
    """The official files (Debian's package): sizes, balanced classes and the test split's fingerprint."""
    if not all(
        os.path.isfile(os.path.join(fm.DEBIAN_DIR, f"{p}-images-idx3-ubyte.gz")) for p in ("train", "t10k")
    ):
        message = f"Fashion-MNIST is not installed in {fm.DEBIAN_DIR} (apt-get install dataset-fashion-mnist)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    test = fm.load_fashion_mnist("test", root=None)
    train = fm.load_fashion_mnist("train", root=None)
    assert (len(train), len(test)) == (60_000, 10_000)
    assert (
        torch.bincount(train.labels).tolist() == [6000] * 10
        and torch.bincount(test.labels).tolist() == [1000] * 10
    )
    assert int(test.labels[0]) == 9 and int(train.labels[0]) == 9  # both splits open on an ankle boot
    assert float(train.images.mean()) == pytest.approx(fm.MEAN[0], abs=5e-5)
    assert float(train.images.std()) == pytest.approx(fm.STD[0], abs=5e-5)
    assert test.fingerprint() == REAL_TEST_FINGERPRINT
