"""What a newcomer's model needs and no more: factories that take ``**kwargs`` get the class count, a card
may leave mean/std to the checkpoint and name any dataset from any folder, its ``num_classes`` applies to
the data, a class count taken from the data says so, and what the loader adapted is reported."""

from __future__ import annotations

import os
import sys
import textwrap
import warnings

import pytest
import torch
from PIL import Image

from robench.errors import CheckpointError, Note, RobenchError
from robench.models import create_model
from robench.models.cards import ModelCard, find_card, list_cards, load_card, models_root, write_card
from robench.models.checkpoint import save_checkpoint, sha256_file
from robench.models.loading import load_model
from robench.pipeline.request import request_from_options
from robench.pipeline.target import resolve_target


@pytest.fixture
def factories(tmp_path, monkeypatch):
    (tmp_path / "kw_factories.py").write_text(
        textwrap.dedent(
            """
            import torch.nn as nn

            def anything(**kw):  # torchvision's and timm's convention
                return nn.Sequential(nn.Flatten(), nn.Linear(64, kw.get("num_classes", 1000)))

            def timm_like(in_chans=3, **kw):
                return nn.Sequential(nn.Flatten(), nn.Linear(in_chans * 64, kw.get("num_classes", 1000)))
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    yield
    sys.modules.pop("kw_factories", None)


def test_a_kwargs_factory_gets_the_class_count_and_named_channels(factories):
    assert create_model("kw_factories:anything", num_classes=10, in_channels=1)[1].out_features == 10
    net = create_model("kw_factories:timm_like", num_classes=7, in_channels=2)
    assert (net[1].in_features, net[1].out_features) == (128, 7)
    head = create_model("torchvision.models:resnet18", num_classes=10).fc
    assert head.out_features == 10  # torchvision's factory takes num_classes through **kwargs


def _folder(root, classes: int, per_class: int = 2):
    for label in range(classes):
        (root / str(label)).mkdir(parents=True)
        for k in range(per_class):
            pixels = torch.full((8, 8), 40 * label + 10 * k, dtype=torch.uint8).numpy()
            Image.fromarray(pixels, mode="L").save(root / str(label) / f"{k}.png")
    return root


def test_a_class_count_counted_from_the_data_says_so(tiny_digits_checkpoint, tmp_path):
    folder = _folder(tmp_path / "three", 3)
    request = request_from_options(
        checkpoint=str(tiny_digits_checkpoint), arch="small_cnn", arch_kwargs={"width": 16},
        dataset=f"folder:{folder}", threat="linf", eps=0.1,
    )  # fmt: skip
    with pytest.raises(CheckpointError) as info:
        resolve_target(request)
    assert "has 10 output classes but the model is built for 3 (3 classes, counted from the 3 class " in str(
        info.value
    ) and str(folder) in str(info.value)


def _net(card) -> torch.nn.Module:
    module = load_model(card).module
    return getattr(module, "net", module)  # no normalisation: no wrapper


def _card_with_buffers(tiny_digits_card, folder, dataset: str, **changes) -> ModelCard:
    """The tiny digits model saved with RobustBench-style mu/sigma buffers, and a card without mean/std."""
    state = dict(_net(tiny_digits_card).state_dict())
    state |= {"mu": torch.tensor([0.0]).view(1, 1, 1), "sigma": torch.tensor([1.0]).view(1, 1, 1)}
    folder.mkdir(parents=True, exist_ok=True)
    sha = save_checkpoint(state, folder / "buffered.safetensors")
    values = tiny_digits_card.to_dict() | {"name": "buffered", "dataset": dataset, "mean": None, "std": None}
    values |= {"checkpoint": "buffered.safetensors", "sha256": sha, **changes}
    values.pop("training", None)
    return load_card(write_card(ModelCard(**values), folder / "buffered.toml"))


def test_a_card_may_leave_mean_std_to_the_checkpoint_and_lie_in_any_folder(tiny_digits_card, tmp_path):
    folder = _folder(tmp_path / "project" / "images", 3)
    card = _card_with_buffers(
        tiny_digits_card, tmp_path / "models" / "anywhere", "folder:../../project/images"
    )
    assert "mean" not in (tmp_path / "models" / "anywhere" / "buffered.toml").read_text()
    assert (card.mean, card.in_channels) == (None, None)
    loaded = load_model(card)
    assert loaded.normalization.source == "checkpoint" and loaded.normalization.mean == (0.0,)
    # a folder: card needs no folder named after its spec, and its num_classes (10) applies to the data
    assert [c.name for c in list_cards(tmp_path / "models")] == ["buffered"]
    target = resolve_target(request_from_options(str(card.path)))
    assert target.data.num_classes == 10 and target.data.spec == f"folder:{folder}"
    with pytest.raises(RobenchError, match="gives 'mean' without 'std'"):
        write_card(
            ModelCard(**(card.to_dict() | {"mean": [0.5], "std": None})), tmp_path / "x" / "buffered.toml"
        )


def test_a_models_folder_without_cards_falls_back_to_the_shipped_zoo(tmp_path, monkeypatch):
    monkeypatch.delenv("ROBENCH_MODELS", raising=False)
    (tmp_path / "models" / "notes").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    with pytest.warns(Note, match="./models holds no model cards; using the shipped zoo"):
        root = models_root()
    assert root != tmp_path / "models" and find_card("digits/linf/pgd", root).name == "pgd"
    _write_any_card = tmp_path / "models" / "notes" / "x.toml"
    _write_any_card.write_text("")  # a card file (even a bad one) makes ./models the root
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert models_root() == tmp_path.joinpath("models").relative_to(tmp_path)


def test_checkpoint_adaptations_are_shown_and_recorded(tiny_digits_card, tmp_path):
    state = {f"module.{k}": v for k, v in _net(tiny_digits_card).state_dict().items()}
    path = tmp_path / "wrapped.pt"
    torch.save({"state_dict": state, "epoch": torch.tensor(3)}, path)
    request = request_from_options(
        checkpoint=str(path), arch="small_cnn", arch_kwargs={"width": 16}, dataset="digits", threat="linf"
    )
    with pytest.warns(Note):
        target = resolve_target(request)
    line = target.loaded.describe()
    assert (
        "checkpoint adapted: unwrapped the state dict nested under 'state_dict'; stripped the 'module.' "
        in line
    )
    assert [n.split(": ", 1)[1] for n in target.model_info.notes] == [
        "unwrapped the state dict nested under 'state_dict'",
        "stripped the 'module.' prefix of every key (DataParallel/DDP)",
    ]
    assert sha256_file(path) == target.loaded.sha256 and os.path.isfile(path)
