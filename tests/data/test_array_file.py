"""file:PATH datasets: .npz / .pt / .safetensors arrays, their key names and layouts, and each bad file."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from robench.data import load_dataset
from robench.errors import DatasetNotFoundError, RobenchError


def one_line(info) -> str:
    message = str(info.value)
    assert "\n" not in message
    return message


def test_npz_of_digits_equals_digits_exactly(tmp_path, digits_test):
    path = tmp_path / "digits_test.npz"
    np.savez(path, images=digits_test.images.numpy(), labels=digits_test.labels.numpy())
    data = load_dataset(f"file:{path}")
    assert torch.equal(data.images, digits_test.images) and torch.equal(data.labels, digits_test.labels)
    assert data.indices.tolist() == list(range(360)) and data.num_classes == 10
    assert data.fingerprint() == digits_test.fingerprint()
    assert (data.name, data.spec, data.preprocessing) == ("file-digits_test", f"file:{path}", "none")
    assert data.mean == (0.0,) and data.std == (1.0,)


def test_indices_key_makes_the_file_the_same_points_as_digits(tmp_path, digits_test):
    path = tmp_path / "d.npz"
    arrays = {"images": digits_test.images.numpy(), "labels": digits_test.labels.numpy()}
    np.savez(path, **arrays, indices=digits_test.indices.numpy())
    data = load_dataset(f"file:{path}")
    assert torch.equal(data.indices, digits_test.indices)
    ours, theirs = data.subset(50, seed=3), digits_test.subset(50, seed=3)
    assert ours.subset_sha256() == theirs.subset_sha256() and ours.fingerprint() == theirs.fingerprint()
    np.savez(path, **arrays)  # without indices: rows 0..359, the same images under other indices
    assert load_dataset(f"file:{path}").subset(50, seed=3).subset_sha256() != theirs.subset_sha256()


def test_float64_npz_is_stored_as_float32(tmp_path, digits_test):
    path = tmp_path / "d.npz"
    np.savez(path, x=digits_test.images.double().numpy(), y=digits_test.labels.numpy().astype(np.int16))
    data = load_dataset(f"file:{path}")
    assert data.images.dtype == torch.float32 and torch.equal(data.images, digits_test.images)
    assert data.labels.dtype == torch.int64


def test_uint8_nhwc_pt_is_divided_by_255_and_made_channels_first(tmp_path):
    pixels = torch.randint(
        0, 256, (5, 6, 7, 3), dtype=torch.uint8, generator=torch.Generator().manual_seed(0)
    )
    torch.save({"x_test": pixels, "y_test": torch.tensor([0, 1, 2, 1, 0])}, tmp_path / "rb.pt")
    data = load_dataset(f"file:{tmp_path / 'rb.pt'}", num_classes=4)
    assert data.images.shape == (5, 3, 6, 7) and data.input_shape == (3, 6, 7)
    assert torch.equal(data.images[2, 1], pixels[2, :, :, 1].float() / 255)
    assert data.num_classes == 4 and data.mean == (0.0, 0.0, 0.0)


def test_pt_pair_and_gray_nhw_safetensors(tmp_path):
    images = torch.rand(4, 5, 5)
    torch.save((images, torch.tensor([3, 1, 0, 2])), tmp_path / "pair.pt")
    named_arrays = {"images": images, "labels": torch.tensor([3, 1, 0, 2]), "num_classes": torch.tensor(7)}
    save_file(named_arrays, str(tmp_path / "g.safetensors"))
    pair, named = (
        load_dataset(f"file:{tmp_path / 'pair.pt'}"),
        load_dataset(f"file:{tmp_path / 'g.safetensors'}"),
    )
    for data in (pair, named):
        assert data.images.shape == (4, 1, 5, 5) and torch.equal(data.images[:, 0], images)
    assert pair.num_classes == 4 and named.num_classes == 7


def test_channel_conversion_gray_to_rgb_and_rgb_to_luma(tmp_path):
    rgb = torch.tensor([1.0, 0.5, 0.0]).view(1, 3, 1, 1).expand(2, 3, 2, 2).contiguous()
    torch.save({"images": rgb, "labels": torch.tensor([0, 1])}, tmp_path / "c.pt")
    gray = load_dataset(f"file:{tmp_path / 'c.pt'}", channels=1)
    assert gray.images.shape == (2, 1, 2, 2) and gray.preprocessing == "rgb-to-gray"
    assert gray.images[0, 0, 0, 0].item() == pytest.approx(0.299 + 0.5 * 0.587)
    torch.save({"images": gray.images, "labels": gray.labels}, tmp_path / "g.pt")
    again = load_dataset(f"file:{tmp_path / 'g.pt'}", channels=3)
    assert again.images.shape == (2, 3, 2, 2) and torch.equal(again.images[:, 2], gray.images[:, 0])


def write(tmp_path, name: str, **arrays) -> str:
    path = tmp_path / name
    np.savez(path, **arrays)
    return f"file:{path}"


GOOD_X = np.zeros((3, 1, 4, 4), dtype=np.float32)
GOOD_Y = np.array([0, 1, 2])


@pytest.mark.parametrize(
    ("arrays", "expected"),
    [
        ({"images": GOOD_X + 1.5, "labels": GOOD_Y}, r"image values lie in \[1.5, 1.5\], outside \[0, 1\]"),
        ({"images": GOOD_X + 200, "labels": GOOD_Y}, "look like 0-255 values: store uint8 or divide by 255"),
        ({"images": GOOD_X * np.nan, "labels": GOOD_Y}, "NaN or infinite"),
        ({"images": GOOD_X, "labels": GOOD_Y[:2]}, "holds 3 images but 2 labels"),
        ({"x": GOOD_X}, "has no labels array: expected one of labels, y, y_test, targets"),
        ({"pixels": GOOD_X, "labels": GOOD_Y}, r"has no images array: .* \(it holds labels, pixels\)"),
        ({"images": GOOD_X, "x": GOOD_X, "labels": GOOD_Y}, "holds both 'images' and 'x'; keep one"),
        ({"images": GOOD_X.astype(np.int64), "labels": GOOD_Y}, "images have dtype int64; store uint8"),
        ({"images": GOOD_X, "labels": GOOD_Y.astype(np.float32)}, "labels have dtype float32; use integers"),
        ({"images": GOOD_X, "labels": GOOD_Y.reshape(3, 1)}, "labels have shape 3x1"),
        ({"images": GOOD_X, "labels": -GOOD_Y}, "labels must be >= 0, found -2"),
        ({"images": GOOD_X[:, :, 0, 0], "labels": GOOD_Y}, "images have shape 3x1; expected N x C x H x W"),
        ({"images": np.zeros((3, 4, 4, 4), np.float32), "labels": GOOD_Y}, "no channel axis of size 1 or 3"),
        ({"images": GOOD_X[:0], "labels": GOOD_Y[:0]}, r"holds no images \(shape 0x1x4x4\)"),
        ({"images": GOOD_X, "labels": GOOD_Y, "num_classes": 2}, "label 2 does not fit 2 classes"),
        (
            {"images": GOOD_X, "labels": GOOD_Y, "num_classes": 2.5},
            "num_classes must be one positive integer",
        ),
        ({"images": GOOD_X, "labels": GOOD_Y, "indices": np.array([4, 4, 5])}, "indices repeat"),
        ({"images": GOOD_X, "labels": GOOD_Y, "indices": np.array([4, 5])}, "holds 3 images but 2 indices"),
        (
            {"images": GOOD_X, "labels": GOOD_Y, "indices": np.array([0.0, 1, 2])},
            "indices have dtype float64",
        ),
    ],
)
def test_each_bad_array_is_one_line_naming_the_file(tmp_path, arrays, expected):
    spec = write(tmp_path, "bad.npz", **arrays)
    with pytest.raises(RobenchError, match=expected) as info:
        load_dataset(spec)
    assert one_line(info).startswith(str(tmp_path / "bad.npz"))


def test_pickle_inside_npz_is_refused_without_unpickling(tmp_path):
    marker = tmp_path / "ran"
    objects = np.array([Payload(str(marker))], dtype=object)
    np.savez(tmp_path / "evil.npz", images=objects, labels=GOOD_Y)
    with pytest.raises(
        RobenchError, match="holds pickled objects; robench reads .npz files with allow_pickle=False"
    ):
        load_dataset(f"file:{tmp_path / 'evil.npz'}")
    assert not marker.exists()


class Payload:
    """Unpickling this creates a file: proof that nothing was unpickled when the file stays absent."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_pt_with_code_is_refused_by_weights_only(tmp_path):
    marker = tmp_path / "ran"
    (tmp_path / "evil.pt").write_bytes(pickle.dumps({"images": Payload(str(marker))}))
    with pytest.raises(RobenchError, match=r"torch.load\(weights_only=True\)") as info:
        load_dataset(f"file:{tmp_path / 'evil.pt'}")
    assert one_line(info) and not marker.exists()


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("t.npz", b"PK\x03\x04truncated", "is not a readable .npz file"),
        ("t.npz", b"plain text", "is not an .npz archive .*never does"),
        ("t.pt", b"\x80\x02garbage", "t.pt"),
        ("t.safetensors", b"\x08\x00\x00\x00\x00\x00\x00\x00{bad", "is not a readable .safetensors file"),
        ("t.csv", b"1,2", "reads image arrays from .npz, .pt, .pth, .safetensors files, not '.csv'"),
    ],
)
def test_corrupt_or_unknown_files_are_one_line(tmp_path, name, content, expected):
    (tmp_path / name).write_bytes(content)
    with pytest.raises(RobenchError, match=expected) as info:
        load_dataset(f"file:{tmp_path / name}")
    assert str(tmp_path / name) in one_line(info)


def test_single_npy_array_and_pt_tensor_are_not_named_arrays(tmp_path):
    np.save(tmp_path / "a.npy", GOOD_X)
    (tmp_path / "a.npz").write_bytes((tmp_path / "a.npy").read_bytes())
    with pytest.raises(RobenchError, match="holds a single array, not named arrays"):
        load_dataset(f"file:{tmp_path / 'a.npz'}")
    torch.save(torch.zeros(2), tmp_path / "t.pt")
    with pytest.raises(RobenchError, match="holds a Tensor, not a dict of named tensors"):
        load_dataset(f"file:{tmp_path / 't.pt'}")


def test_missing_file_is_dataset_not_found(tmp_path):
    with pytest.raises(DatasetNotFoundError, match=f"dataset file {tmp_path / 'nope.npz'} not found"):
        load_dataset(f"file:{tmp_path / 'nope.npz'}")


def test_files_take_no_image_size(tmp_path):
    with pytest.raises(RobenchError, match="file: does not take --image-size"):
        load_dataset(write(tmp_path, "ok.npz", images=GOOD_X, labels=GOOD_Y), image_size=8)
