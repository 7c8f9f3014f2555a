"""load_model: architecture from the card or caller, safe weights, sha256 check, normalisation, eval mode."""

from __future__ import annotations

import dataclasses
import sys
import textwrap
import warnings

import pytest
import torch
from torch import nn

from robench.errors import CheckpointError, RobenchError
from robench.models import Normalized, create_model
from robench.models.cards import load_card, write_card
from robench.models.checkpoint import save_checkpoint
from robench.models.loading import load_model, load_model_from_module


def _accuracy(model, data) -> float:
    with torch.no_grad():
        return float((model(data.images).argmax(1) == data.labels).float().mean())


def test_tiny_digits_model_fixture_is_accurate_and_ready(tiny_digits_model, digits_test):
    assert _accuracy(tiny_digits_model, digits_test) >= 0.9
    assert not tiny_digits_model.training
    assert not any(p.requires_grad for p in tiny_digits_model.parameters())


def test_load_from_card_gives_the_trained_weights(tiny_digits_card, tiny_digits_model, digits_test):
    loaded = load_model(tiny_digits_card)
    assert loaded.name == "digits/linf/tiny" and loaded.sha256 == tiny_digits_card.sha256
    assert loaded.card is tiny_digits_card and loaded.architecture == "small_cnn"
    x = digits_test.images[:16]
    assert torch.equal(loaded.module(x), tiny_digits_model(x))


def test_load_from_checkpoint_and_arch(tiny_digits_checkpoint, tiny_digits_model, digits_test):
    loaded = load_model(
        checkpoint=tiny_digits_checkpoint,
        arch="small_cnn",
        num_classes=10,
        in_channels=1,
        arch_kwargs={"width": 16},
    )
    assert loaded.card is None and loaded.name == "tiny" and len(loaded.sha256) == 64
    assert torch.equal(loaded.module(digits_test.images[:8]), tiny_digits_model(digits_test.images[:8]))


def test_sha256_mismatch_with_the_card(tiny_digits_card, tmp_path):
    other = tmp_path / "other.safetensors"
    save_checkpoint(create_model("small_cnn", num_classes=10, in_channels=1, width=16), other)
    with pytest.raises(CheckpointError, match="is not the checkpoint the card describes") as info:
        load_model(tiny_digits_card, checkpoint=other)
    assert f"card {tiny_digits_card.id} says {tiny_digits_card.sha256[:16]}" in str(info.value)


def test_card_settings_cannot_be_overridden(tiny_digits_card):
    with pytest.raises(RobenchError, match="fixes these settings; drop arch='resnet18'"):
        load_model(tiny_digits_card, arch="resnet18")
    assert load_model(tiny_digits_card, arch="small_cnn", num_classes=10).name == "digits/linf/tiny"


def test_wrong_classes_in_the_card(tiny_digits_card, tmp_path):
    card = dataclasses.replace(tiny_digits_card, name="c100", num_classes=100)
    card = load_card(write_card(card, tmp_path / "c100.toml"))
    (tmp_path / "tiny.safetensors").write_bytes(tiny_digits_card.checkpoint_path.read_bytes())
    with pytest.raises(CheckpointError, match="has 10 output classes but the model is built for 100"):
        load_model(card)


def test_normalisation_lives_inside_the_model(tiny_digits_checkpoint, tiny_digits_model, digits_test):
    loaded = load_model(
        checkpoint=tiny_digits_checkpoint, arch="small_cnn", num_classes=10, mean=[0.5], std=[0.25],
        arch_kwargs={"width": 16},
    )  # fmt: skip
    assert isinstance(loaded.module, Normalized)
    x = digits_test.images[:8]
    assert torch.allclose(loaded.module(x), tiny_digits_model((x - 0.5) / 0.25))


def test_arch_is_required_without_a_card(tiny_digits_checkpoint):
    with pytest.raises(RobenchError, match="give a model card \\(--model\\) or an architecture \\(--arch\\)"):
        load_model(checkpoint=tiny_digits_checkpoint)
    with pytest.raises(RobenchError, match="give the number of classes \\(--num-classes\\)"):
        load_model(checkpoint=tiny_digits_checkpoint, arch="small_cnn")
    with pytest.raises(RobenchError, match="give both mean and std"):
        load_model(checkpoint=tiny_digits_checkpoint, arch="small_cnn", num_classes=10, mean=[0.5])


def test_user_factory_that_loads_its_own_weights(tmp_path, monkeypatch):
    (tmp_path / "zoo_user.py").write_text(
        textwrap.dedent(
            """
            import torch.nn as nn

            def pretrained(num_classes=10, in_channels=3):
                net = nn.Sequential(nn.Flatten(), nn.Linear(in_channels * 64, num_classes))
                nn.init.constant_(net[1].weight, 0.5)
                return net
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        loaded = load_model(arch="zoo_user:pretrained", num_classes=3, in_channels=1)
    finally:
        sys.modules.pop("zoo_user", None)
    assert loaded.name == "zoo_user:pretrained" and loaded.sha256 is None
    assert not loaded.module.training and float(loaded.module[1].weight[0, 0]) == 0.5


def test_module_in_train_mode_is_switched_and_we_say_so():
    net = nn.Sequential(nn.Flatten(), nn.Linear(64, 10), nn.Dropout(0.5)).train()
    said = r"model was in train mode \(4 of 4 modules training, 2 parameters requiring gradients\); robench"
    with pytest.warns(UserWarning, match=said):
        loaded = load_model_from_module(net, mean=[0.5], std=[0.5], name="mine")
    assert loaded.name == "mine" and isinstance(loaded.module, Normalized)
    assert not loaded.module.training and not net.training
    assert not any(p.requires_grad for p in loaded.module.parameters())
    x = torch.rand(4, 1, 8, 8)
    assert torch.equal(loaded.module(x), loaded.module(x))  # dropout off


def test_module_in_eval_mode_is_taken_silently():
    net = nn.Sequential(nn.Flatten(), nn.Linear(64, 10)).eval()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loaded = load_model_from_module(net)
    assert loaded.module is net and loaded.name == "Sequential"
