"""DataSpec (the one entry point), dataset kinds and names, and the fingerprint of the data evaluated."""

from __future__ import annotations

import dataclasses
import hashlib

import numpy as np
import pytest
import torch

from robench.data import DATASET_KINDS, DATASETS, DataSpec, ImageDataset, load_dataset
from robench.data.identity import board_name
from robench.errors import RobenchError

DIGITS_TEST_FINGERPRINT = "fb2f8c29d1e2a9bba94c66f3301caec637ce4f01e94481e32100e7d098f4a319"


def test_dataspec_is_frozen_and_every_field_has_one_line_help():
    fields = dataclasses.fields(DataSpec)
    assert [f.name for f in fields] == [
        "spec", "split", "root", "image_size", "channels", "max_image_pixels", "preprocessing", "num_classes",
        "trust_code", "source",
    ]  # fmt: skip
    for f in fields:
        assert f.metadata["help"] and "\n" not in f.metadata["help"]
    assert {f.name: f.metadata["option"] for f in fields if f.metadata["option"]} == {
        "spec": "--dataset",
        "root": "--data-root",
        "num_classes": "--data-num-classes",  # keywords distinct from the model's --num-classes/--trust-code
        "trust_code": "--data-trust-code",
    }
    assert [f.name for f in fields if not f.metadata["cli"]] == ["num_classes", "trust_code", "source"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        DataSpec().split = "train"


def test_dataspec_load_is_load_dataset(digits_test):
    data = DataSpec(spec="digits", split="test").load()
    assert torch.equal(data.images, digits_test.images) and data.spec == "digits" and data.name == "digits"
    assert DataSpec().spec is None and DataSpec().split == "test"  # None: the card's dataset
    with pytest.raises(RobenchError, match="give --dataset"):
        DataSpec().load()


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({"channels": 2}, "--channels must be 1 or 3, got 2"),
        ({"image_size": 0}, "--image-size must be a positive integer, got 0"),
        ({"num_classes": -1}, "--num-classes must be a positive integer"),
        ({"spec": "  "}, "the dataset name is empty"),
    ],
)
def test_bad_settings_are_user_errors(settings, expected):
    with pytest.raises(RobenchError, match=expected):
        DataSpec(**settings)


def test_kinds_registered_names_and_did_you_mean():
    assert {"digits", "mnist", "cifar10", "cifar100", "svhn", "imagenet"} <= set(DATASETS.names())
    assert DATASET_KINDS.names() == ["file", "folder"]
    with pytest.raises(
        RobenchError, match=r"unknown dataset kind 'folders'; did you mean 'folder'.* in 'folders:/x'"
    ):
        load_dataset("folders:/x")
    with pytest.raises(RobenchError, match="did you mean 'imagenet'"):
        load_dataset("imagnet")
    with pytest.raises(RobenchError, match="digits does not take --image-size"):
        load_dataset("digits", image_size=8)


def test_named_datasets_convert_channels_for_the_model_and_keep_their_classes(digits_test):
    rgb = load_dataset("digits", channels=3, num_classes=7)  # the model's flags, passed through
    assert rgb.input_shape == (3, 8, 8) and rgb.mean == (0.0,) * 3 and rgb.preprocessing == "gray-to-rgb"
    assert torch.equal(rgb.images, digits_test.images.expand(-1, 3, -1, -1)) and rgb.num_classes == 10
    assert load_dataset("digits", channels=1).preprocessing == "none"


def test_board_names_are_safe_and_short():
    assert board_name("folder", "My Set (v2)") == "folder-my-set-v2"
    assert board_name("file", "digits_test") == "file-digits_test"
    assert board_name("user", "my_pkg.data:load") == "user-my_pkg.data-load"
    assert board_name("folder", "///") == "folder-data" and len(board_name("file", "x" * 200)) == 5 + 48


def test_fingerprint_is_the_documented_hash_of_shape_pixels_and_labels(digits_test):
    digest = hashlib.sha256(b"robench-data-fingerprint-v1\n")
    digest.update(np.array([360, 1, 8, 8], dtype="<i8").tobytes())
    digest.update(digits_test.images.numpy().astype("<f4").tobytes())
    digest.update(digits_test.labels.numpy().astype("<i8").tobytes())
    assert digits_test.fingerprint() == digest.hexdigest() == DIGITS_TEST_FINGERPRINT


def test_fingerprint_sees_one_pixel_one_label_and_the_subset(digits_test):
    base = digits_test.fingerprint()
    pixel = digits_test.images.clone()
    pixel[100, 0, 3, 3] += 1 / 16
    labels = digits_test.labels.clone()
    labels[5] = (labels[5] + 1) % 10
    changed = [
        dataclasses.replace(digits_test, images=pixel),
        dataclasses.replace(digits_test, labels=labels),
        digits_test.subset(359, seed=0),
    ]
    assert len({base, *(d.fingerprint() for d in changed)}) == 4
    moved = dataclasses.replace(digits_test, indices=digits_test.indices + 1)  # same data, other indices
    assert moved.fingerprint() == base and moved.subset_sha256() != digits_test.subset_sha256()


def test_lazy_and_decoded_fingerprints_agree(tmp_path):
    from PIL import Image

    for i in range(300):  # more than one fingerprint batch
        (tmp_path / str(i % 3)).mkdir(exist_ok=True)
        Image.new("L", (3, 2), i % 256).save(tmp_path / str(i % 3) / f"{i:03d}.png")
    lazy = load_dataset(f"folder:{tmp_path}")
    assert lazy.is_lazy and lazy.fingerprint() == lazy.materialize().fingerprint()
    assert lazy.subset(10, seed=2).fingerprint() == lazy.materialize().subset(10, seed=2).fingerprint()


def test_old_constructor_still_works_and_spec_defaults_to_the_name():
    data = ImageDataset(
        "toy", "test", torch.zeros(2, 1, 2, 2), torch.tensor([0, 1]), torch.arange(2), 2, (0.0,), (1.0,)
    )
    assert (data.spec, data.preprocessing, data.missing, data.is_lazy) == ("toy", "none", 0, False)
    assert data.materialize() is data and data.take(torch.tensor([1])).spec == "toy"
