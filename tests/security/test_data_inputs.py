"""Hostile data: array files of the wrong shape or layout, image folders with symlinks, pixel bombs, data
a model cannot take."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

import pytest
import torch
from PIL import Image

LABELS = torch.tensor([0, 1])


def _evaluate(card, data: str, *extra: str) -> list[str]:
    return ["evaluate", "--model", str(card.path), "--dataset", data, "-n", "2", "--suite", "_"] + list(extra)


@pytest.fixture
def fgsm_suite(tmp_path):
    path = tmp_path / "fgsm.toml"
    path.write_text('name = "one"\nversion = "1"\nattacks = ["fgsm"]\n')
    return path


def _run(cli, card, data, suite, *extra):
    argv = _evaluate(card, data, *extra)
    argv[argv.index("_")] = str(suite)
    return cli(*argv, "--no-diagnostics")


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ({"images": [[0.1, 0.2], [0.3]], "labels": LABELS}, ["not a rectangular array"]),
        ({"images": torch.zeros(2, 1, 8, 8).to_sparse(), "labels": LABELS}, ["sparse_coo tensor"]),
        ({"images": torch.zeros(2, 1, 0, 0), "labels": LABELS}, ["images are 0x0, without pixels"]),
        ({"images": torch.zeros(2, 4, 8, 8), "labels": LABELS}, ["no channel axis of size 1 or 3"]),
        ({"images": torch.rand(2, 1, 1, 1), "labels": LABELS}, ["cannot take", "1x1x1 images"]),
        ({"images": torch.rand(2, 3, 8, 8), "labels": LABELS}, ["takes 1-channel images", "--channels 1"]),
    ],
)
def test_array_files_the_model_cannot_take(
    tiny_digits_card, fgsm_suite, tmp_path, cli, check_error, content, words
):
    path = tmp_path / "data.pt"
    torch.save(content, path)
    check_error(_run(cli, tiny_digits_card, f"file:{path}", fgsm_suite), *words)


def test_channels_3_for_a_one_channel_card(tiny_digits_card, fgsm_suite, cli, check_error):
    check_error(
        _run(cli, tiny_digits_card, "digits", fgsm_suite, "--channels", "3"), "takes 1-channel images"
    )


def test_a_deflate_bomb_data_file_is_refused_before_loading(
    tiny_digits_card, fgsm_suite, tmp_path, cli, check_error
):
    buffer = io.BytesIO()
    torch.save(
        {"images": torch.zeros(5_000_000, dtype=torch.uint8).view(-1, 1, 8, 8), "labels": LABELS}, buffer
    )
    plain = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    path = tmp_path / "bomb.pt"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as packed:
        for name in plain.namelist():
            packed.writestr(name, plain.read(name))
    check_error(_run(cli, tiny_digits_card, f"file:{path}", fgsm_suite), "expands", "times")


def _png_header(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height 8-bit gray pixels (its data is a few bytes)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0"))
        + chunk(b"IEND", b"")
    )


def _image_folder(tmp_path, images: dict[str, Image.Image | bytes]):
    root = tmp_path / "images"
    for name, image in images.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        if isinstance(image, bytes):
            (root / name).write_bytes(image)
        else:
            image.save(root / name)
    return root


def _gray(size=8):
    return Image.new("L", (size, size), 128)


def test_a_pixel_bomb_is_refused_from_its_header(tiny_digits_card, fgsm_suite, tmp_path, cli, check_error):
    root = _image_folder(tmp_path, {"a/0.png": _gray(), "b/0.png": _png_header(100_000, 100_000)})
    data = f"folder:{root}"
    check_error(_run(cli, tiny_digits_card, data, fgsm_suite), "10000000000 pixels", "--max-image-pixels")
    root = _image_folder(tmp_path / "2", {"a/0.png": _gray(), "b/0.png": _png_header(10_000, 10_000)})
    err = check_error(_run(cli, tiny_digits_card, f"folder:{root}", fgsm_suite), "10000x10000")
    assert "100,000,000 pixels, more than the cap of 40,000,000 (--max-image-pixels raises it)" in err


def test_the_pixel_cap_can_be_lowered_and_raised(tiny_digits_card, fgsm_suite, tmp_path, cli, check_error):
    root = _image_folder(tmp_path, {"a/0.png": _gray(), "b/0.png": _gray()})
    (root / "classes.txt").write_text("".join(f"{c}\n" for c in "abcdefghij"))  # the card's 10 classes
    data = f"folder:{root}"
    check_error(
        _run(cli, tiny_digits_card, data, fgsm_suite, "--max-image-pixels", "63"), "more than the cap of 63"
    )
    code, out, err = _run(cli, tiny_digits_card, data, fgsm_suite, "--max-image-pixels", "64", "--eps", "0.1")
    assert code == 0, err
    assert "robust" in out


def test_max_image_pixels_is_refused_where_no_file_is_decoded(tiny_digits_card, fgsm_suite, cli, check_error):
    check_error(
        _run(cli, tiny_digits_card, "digits", fgsm_suite, "--max-image-pixels", "10"), "--max-image-pixels"
    )


def test_one_rgba_png_makes_the_folder_rgb(tiny_digits_card, fgsm_suite, tmp_path, cli, check_error):
    root = _image_folder(tmp_path, {"a/0.png": _gray(), "b/0.png": Image.new("RGBA", (8, 8))})
    check_error(_run(cli, tiny_digits_card, f"folder:{root}", fgsm_suite), "takes 1-channel images")


def test_a_zero_sized_image_is_refused(tiny_digits_card, fgsm_suite, tmp_path, cli, check_error):
    root = _image_folder(tmp_path, {"a/0.png": _gray(), "b/0.png": _png_header(0, 0)})
    check_error(_run(cli, tiny_digits_card, f"folder:{root}", fgsm_suite), "b/0.png")


@pytest.mark.parametrize("link", ["loop", "outside", "sibling"])
def test_symlinks_that_leave_or_loop_are_refused(
    tiny_digits_card, fgsm_suite, tmp_path, cli, check_error, link
):
    root = _image_folder(tmp_path, {"a/0.png": _gray(), "b/0.png": _gray()})
    outside = _image_folder(tmp_path / "other", {"c/0.png": _gray()})
    target = {"loop": root, "outside": outside / "c" / "0.png", "sibling": root / "a"}[link]
    (root / "b" / "link").symlink_to(target)
    words = ["leaves the image folder"] if link == "outside" else ["would read the same images again"]
    check_error(_run(cli, tiny_digits_card, f"folder:{root}", fgsm_suite), "link", *words)
