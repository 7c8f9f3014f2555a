"""package.module:function datasets: typed by the user they run; named by a file they need trust_code."""

from __future__ import annotations

import textwrap

import pytest
import torch

from robench.data import DataSpec, ImageDataset, load_dataset
from robench.errors import RobenchError

LOADERS = """
import pathlib
import numpy as np
import torch
from robench.data import ImageDataset

pathlib.Path(__file__).with_name("imported").write_text("yes")  # proof that the module was imported

def pair(split):
    return np.full((3, 4, 4, 1), 51, dtype=np.uint8), np.array([2, 0, 1])

def named(split, channels=None):
    return {"x": torch.full((2, 1, 3, 3), 0.5), "y": torch.tensor([1, 1]), "split": split}

def dataset(split, root=None):
    images = torch.rand(4, 1, 2, 2, generator=torch.Generator().manual_seed(0))
    return ImageDataset("claims_cifar10", split, images, torch.tensor([0, 1, 2, 3]),
                        torch.tensor([10, 20, 30, 40]), 4, (0.0,), (1.0,))

def seen_root(split, root=None):
    return torch.zeros(1, 1, 2, 2), torch.tensor([0 if root is None else 1])

def too_bright(split):
    return torch.full((2, 1, 2, 2), 2.0), torch.tensor([0, 1])

def repeated(split):
    x = torch.zeros(2, 1, 2, 2)
    return ImageDataset("r", split, x, torch.tensor([0, 1]), torch.tensor([5, 5]), 2, (0.0,), (1.0,))

def number(split):
    return 3

not_callable = 7
"""


@pytest.fixture
def loaders(tmp_path, monkeypatch):
    (tmp_path / "my_loaders.py").write_text(textwrap.dedent(LOADERS))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(__import__("sys").modules, "my_loaders", raising=False)
    return tmp_path


def test_typed_loader_returning_arrays_is_checked_and_named(loaders):
    data = load_dataset("my_loaders:pair")
    assert data.images.shape == (3, 1, 4, 4) and torch.allclose(data.images, torch.full((3, 1, 4, 4), 0.2))
    assert data.labels.tolist() == [2, 0, 1] and data.num_classes == 3 and data.indices.tolist() == [0, 1, 2]
    assert (data.name, data.spec, data.split) == ("user-my_loaders-pair", "my_loaders:pair", "test")
    rgb = load_dataset("my_loaders:named", channels=3)
    assert rgb.images.shape == (2, 3, 3, 3) and rgb.preprocessing == "gray-to-rgb"


def test_loader_returning_a_dataset_keeps_its_indices_but_not_its_name(loaders):
    data = load_dataset("my_loaders:dataset", split="val")
    assert data.indices.tolist() == [10, 20, 30, 40] and data.num_classes == 4
    assert (data.name, data.split, data.spec) == ("user-my_loaders-dataset", "val", "my_loaders:dataset")
    part = data.subset(2, seed=0).indices.tolist()
    assert isinstance(data, ImageDataset) and part == sorted(part) and set(part) < {10, 20, 30, 40}


def test_root_reaches_loaders_that_take_it_and_others_refuse_options(loaders, monkeypatch):
    monkeypatch.delenv("ROBENCH_DATA", raising=False)
    assert load_dataset("my_loaders:seen_root").labels.tolist() == [0]
    assert load_dataset("my_loaders:seen_root", root="/somewhere").labels.tolist() == [1]
    applied = load_dataset("my_loaders:pair", channels=3, num_classes=5)  # robench applies what it can
    assert applied.input_shape == (3, 4, 4) and applied.num_classes == 5
    with pytest.raises(RobenchError, match="dataset loader 'my_loaders:pair' takes no image_size argument"):
        load_dataset("my_loaders:pair", image_size=8)


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("my_loaders:too_bright", r"loader 'my_loaders:too_bright': image values lie in \[2, 2\]"),
        ("my_loaders:repeated", "canonical indices repeat"),
        ("my_loaders:number", "returned int; return an ImageDataset or"),
        ("my_loaders:not_callable", "is not callable"),
        ("my_loaders:missing", "module 'my_loaders' has no attribute 'missing'"),
        ("no_such_module_xyz:f", "cannot import module 'no_such_module_xyz'"),
    ],
)
def test_bad_loaders_are_one_line(loaders, target, expected):
    with pytest.raises(RobenchError, match=expected):
        load_dataset(target)


def test_loader_named_by_a_card_needs_trust_code_and_is_not_imported_without(loaders):
    untrusted = DataSpec(spec="my_loaders:pair", source="models/x/linf/m.toml")
    with pytest.raises(RobenchError, match=r"models/x/linf/m.toml names code to run \('my_loaders:pair'\)"):
        untrusted.load()
    assert not (loaders / "imported").exists()
    trusted = DataSpec(spec="my_loaders:pair", source="models/x/linf/m.toml", trust_code=True).load()
    assert len(trusted) == 3 and (loaders / "imported").exists()


def test_paths_named_by_a_card_are_data_not_code(tmp_path):
    torch.save({"images": torch.zeros(2, 1, 2, 2), "labels": torch.tensor([0, 1])}, tmp_path / "d.pt")
    assert len(DataSpec(spec=f"file:{tmp_path / 'd.pt'}", source="card.toml").load()) == 2
