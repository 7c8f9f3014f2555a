"""folder:DIR datasets: ImageFolder layout, classes.txt, channels, image_size, lazy decoding, bad images."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch
from data_files import QUANTISATION, write_digits_pngs
from PIL import Image
from torchvision import datasets as tv
from torchvision import transforms

from robench.data import load_dataset
from robench.errors import DatasetNotFoundError, RobenchError


def png(path, size=(4, 3), mode="RGB", color=(10, 200, 30)) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new(mode, size, color if mode == "RGB" else color[0]).save(path)


def test_png_digits_match_digits_up_to_8_bit_quantisation(tmp_path, digits_test):
    write_digits_pngs(tmp_path / "digits_png", digits_test)
    data = load_dataset(f"folder:{tmp_path / 'digits_png'}")
    assert data.is_lazy and data.input_shape == (1, 8, 8) and data.num_classes == 10 and len(data) == 360
    rows = torch.tensor(
        [int(os.path.basename(p)[:4]) // 5 for p in data.images.paths]
    )  # test row = index / 5
    pixels = data.materialize().images
    assert torch.equal(data.labels, digits_test.labels[rows])
    error = (pixels - digits_test.images[rows]).abs().max().item()
    assert 0 < error <= QUANTISATION + 1e-7 and error == pytest.approx(QUANTISATION, abs=1e-6)
    assert data.fingerprint() != digits_test.fingerprint()
    assert (data.name, data.spec) == ("folder-digits_png", f"folder:{tmp_path / 'digits_png'}")


def test_canonical_index_is_sorted_relative_path_and_matches_image_folder(tmp_path):
    for name in ("b/2.png", "a/10.png", "a/9.png", "b/sub/1.png", "c/0.png"):
        png(tmp_path / name)
    data = load_dataset(f"folder:{tmp_path}")
    relative = [os.path.relpath(p, tmp_path) for p in data.images.paths]
    assert relative == ["a/10.png", "a/9.png", "b/2.png", "b/sub/1.png", "c/0.png"]
    assert data.labels.tolist() == [0, 0, 1, 1, 2] and data.indices.tolist() == [0, 1, 2, 3, 4]
    reference = tv.ImageFolder(str(tmp_path))
    assert sorted(reference.samples) == sorted(zip(data.images.paths, data.labels.tolist(), strict=True))


def test_classes_txt_sets_the_order_and_may_list_absent_classes(tmp_path):
    png(tmp_path / "dog" / "1.png")
    png(tmp_path / "cat" / "1.png")
    (tmp_path / "classes.txt").write_text("zebra\ndog\n\ncat\n")
    data = load_dataset(f"folder:{tmp_path}")
    assert data.num_classes == 3 and data.labels.tolist() == [2, 1]  # cat/1.png, dog/1.png
    (tmp_path / "classes.txt").write_text("dog\n")
    with pytest.raises(RobenchError, match="classes.txt does not list the class folder 'cat'"):
        load_dataset(f"folder:{tmp_path}")
    (tmp_path / "classes.txt").write_text("dog\ncat\ndog\n")
    with pytest.raises(RobenchError, match="lists class 'dog' more than once"):
        load_dataset(f"folder:{tmp_path}")


def test_hidden_and_non_image_files_are_skipped(tmp_path):
    png(tmp_path / "a" / "1.png")
    png(tmp_path / ".ipynb_checkpoints" / "1.png")
    (tmp_path / "a" / "._1.png").write_bytes(b"AppleDouble junk")
    (tmp_path / "a" / "notes.txt").write_text("not an image")
    data = load_dataset(f"folder:{tmp_path}")
    assert data.num_classes == 1 and [os.path.basename(p) for p in data.images.paths] == ["1.png"]


def test_channels_follow_the_data_or_the_argument(tmp_path):
    png(tmp_path / "rgb" / "a" / "1.png", color=(10, 200, 30))
    png(tmp_path / "gray" / "a" / "1.png", mode="L", color=(77,))
    rgb, gray = load_dataset(f"folder:{tmp_path / 'rgb'}"), load_dataset(f"folder:{tmp_path / 'gray'}")
    assert rgb.input_shape == (3, 3, 4) and gray.input_shape == (1, 3, 4)
    assert rgb.images[0][:, 0, 0].mul(255).round().tolist() == [10, 200, 30]
    as_gray = load_dataset(f"folder:{tmp_path / 'rgb'}", channels=1).images[0]
    pil_gray = Image.open(tmp_path / "rgb" / "a" / "1.png").convert("L").getpixel((0, 0))
    assert as_gray.shape == (1, 3, 4) and round(as_gray[0, 0, 0].item() * 255) == pil_gray
    as_rgb = load_dataset(f"folder:{tmp_path / 'gray'}", channels=3).images[0]
    assert as_rgb.shape == (3, 3, 4) and as_rgb.mul(255).round().unique().tolist() == [77.0]


def test_uneven_sizes_need_image_size_which_resizes_like_torchvision(tmp_path):
    rng = np.random.default_rng(0)
    for name, size in (("a/1.png", (12, 10)), ("b/1.png", (9, 14))):
        (tmp_path / name).parent.mkdir(parents=True)
        Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)).save(tmp_path / name)
    with pytest.raises(RobenchError, match=r"different sizes \(.*a/1.png is 12x10, .*b/1.png is 9x14\)"):
        load_dataset(f"folder:{tmp_path}")
    data = load_dataset(f"folder:{tmp_path}", image_size=8)
    assert data.input_shape == (3, 8, 8) and data.preprocessing == "Res8Crop8"
    chain = transforms.Compose([transforms.Resize(8), transforms.CenterCrop(8), transforms.ToTensor()])
    expected = chain(Image.open(tmp_path / "b/1.png").convert("RGB"))
    assert torch.equal(data.images[1], expected)


def test_unreadable_image_fails_at_load_naming_the_file(tmp_path):
    png(tmp_path / "a" / "good.png")
    (tmp_path / "a" / "junk.png").write_bytes(b"this is not a png")
    with pytest.raises(
        RobenchError, match=f"{tmp_path / 'a' / 'junk.png'} cannot be read as an image"
    ) as info:
        load_dataset(f"folder:{tmp_path}")
    assert "\n" not in str(info.value)


def test_truncated_image_fails_when_decoded_naming_the_file(tmp_path):
    Image.fromarray(np.random.default_rng(1).integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(
        tmp_path / "t.png"
    )
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "cut.png").write_bytes((tmp_path / "t.png").read_bytes()[:400])
    png(tmp_path / "a" / "ok.png", size=(64, 64))
    data = load_dataset(f"folder:{tmp_path}")  # headers are fine: the damage shows only when decoding
    assert data.images[1].shape == (3, 64, 64)
    with pytest.raises(
        RobenchError, match=f"{tmp_path / 'a' / 'cut.png'} cannot be read as an image"
    ) as info:
        data.materialize()
    assert "\n" not in str(info.value)


def test_16_bit_images_are_refused(tmp_path):
    (tmp_path / "a").mkdir()
    Image.fromarray(np.full((3, 3), 40000, dtype=np.uint16)).save(tmp_path / "a" / "deep.png")
    with pytest.raises(RobenchError, match="deep.png has I;16 pixels .*robench reads 8-bit images"):
        load_dataset(f"folder:{tmp_path}")


def test_folder_problems_are_one_clear_line(tmp_path):
    with pytest.raises(DatasetNotFoundError, match=f"image folder {tmp_path / 'nope'} not found"):
        load_dataset(f"folder:{tmp_path / 'nope'}")
    with pytest.raises(RobenchError, match="has no class folders"):
        load_dataset(f"folder:{tmp_path}")
    (tmp_path / "empty").mkdir()
    with pytest.raises(RobenchError, match="has no image files in its class folders"):
        load_dataset(f"folder:{tmp_path}")
    png(tmp_path / "empty" / "1.png")
    png(tmp_path / "other" / "1.png")
    with pytest.raises(RobenchError, match="has 2 classes, more than num_classes=1"):
        load_dataset(f"folder:{tmp_path}", num_classes=1)
    assert load_dataset(f"folder:{tmp_path}", num_classes=5).num_classes == 5


def test_lazy_subset_decodes_only_its_images(tmp_path, monkeypatch):
    for i in range(6):
        png(tmp_path / "a" / f"{i}.png", color=(i, i, i))
    data = load_dataset(f"folder:{tmp_path}")
    decoded = []
    decode = type(data.images.decode).__call__
    monkeypatch.setattr(
        type(data.images.decode), "__call__", lambda self, p: decoded.append(p) or decode(self, p)
    )
    part = data.subset(2, seed=1)
    assert part.is_lazy and decoded == []
    pixels = part.materialize().images
    assert sorted(decoded) == sorted(part.images.paths) and len(decoded) == 2
    assert pixels[:, 0, 0, 0].mul(255).round().tolist() == [float(i) for i in part.indices.tolist()]


def test_lazy_images_index_like_a_tensor(tmp_path):
    for i in range(5):
        png(tmp_path / "a" / f"{i}.png", size=(2, 2), color=(i, 0, 0))
    lazy = load_dataset(f"folder:{tmp_path}").images
    full = lazy.decode_all()
    assert lazy.shape == full.shape == (5, 3, 2, 2) and len(lazy) == 5 and lazy.dtype == full.dtype
    for key in (3, -1, np.int64(2), torch.tensor(1)):
        assert torch.equal(lazy[key], full[key])
    for key in (slice(1, 4), [4, 0], torch.tensor([2, -1]), torch.tensor([True, False, True, False, False])):
        assert torch.equal(lazy[key], full[key])
    assert torch.equal(lazy.select(torch.tensor([3, 1]))[0], full[3]) and torch.equal(lazy.to("cpu"), full)
    with pytest.raises(IndexError):
        lazy[5]
