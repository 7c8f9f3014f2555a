"""A card is untrusted input: code it names runs only when the caller opts in (trust_code=True)."""

from __future__ import annotations

import os
import sys
import textwrap

import pytest
import tomli_w
from torch import nn

from robench.errors import RobenchError
from robench.models.cards import find_card, list_cards, load_card
from robench.models.checkpoint import save_checkpoint
from robench.models.loading import load_model
from robench.models.spec import ModelSpec

SHA = "ab" * 32


def _card(root, name: str, architecture: str, **fields):
    path = root / "digits" / "linf" / f"{name}.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {
        "name": name, "architecture": architecture, "dataset": "digits", "num_classes": 10, "threat": "linf",
        "eps": 0.3, "mean": [0.0], "std": [1.0], "checkpoint": f"{name}.safetensors", "sha256": SHA, **fields,
    }  # fmt: skip
    path.write_text(tomli_w.dumps(data))
    return path


@pytest.fixture
def side_effect_module(tmp_path, monkeypatch):
    """A module whose import creates a marker file: proof that code named by a card ran."""
    marker = tmp_path / "imported"
    (tmp_path / "card_payload.py").write_text(
        textwrap.dedent(
            f"""
            import pathlib
            pathlib.Path({str(marker)!r}).write_text("ran")

            def make(num_classes=10, in_channels=1):
                import torch.nn as nn
                return nn.Sequential(nn.Flatten(), nn.Linear(64 * in_channels, num_classes))
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    yield marker
    sys.modules.pop("card_payload", None)


def test_os_system_in_a_card_runs_nothing(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(os, "system", lambda *a, **k: calls.append(a))
    path = _card(tmp_path, "evil", "os:system")
    with pytest.raises(RobenchError) as info:
        load_model(load_card(path))
    assert str(info.value) == (
        f"model card {path.resolve()} names code to run ('os:system'); robench imports code named by a file "
        "only when you pass --trust-code (trust_code=True in Python)"
    )
    assert calls == []


def test_an_import_side_effect_never_happens_without_trust(tmp_path, side_effect_module, monkeypatch):
    root = tmp_path / "zoo"
    path = _card(root, "payload", "card_payload:make")
    monkeypatch.setenv("ROBENCH_MODELS", str(root))
    assert [c.id for c in list_cards()] == ["digits/linf/payload"]  # listing a zoo imports nothing
    for attempt in (
        lambda: load_model(load_card(path)),
        lambda: load_model("digits/linf/payload"),
        lambda: load_model(find_card("payload")),
        lambda: ModelSpec(model="payload").load(ModelSpec(model="payload").find_card(), data=None),
    ):
        with pytest.raises(RobenchError, match="names code to run \\('card_payload:make'\\)"):
            attempt()
    assert not side_effect_module.exists()
    assert "card_payload" not in sys.modules


def _payload_card_with_checkpoint(root):
    """The payload card, with a checkpoint of the same keys saved without importing the payload."""
    path = _card(root, "payload", "card_payload:make")
    weights = path.with_suffix(".safetensors")
    sha = save_checkpoint(nn.Sequential(nn.Flatten(), nn.Linear(64, 10)), weights)
    path.write_text(path.read_text().replace(SHA, sha))
    return path


@pytest.mark.parametrize("where", ["load_card", "load_model", "ModelSpec"])
def test_trusted_cards_run_their_code(tmp_path, side_effect_module, monkeypatch, where):
    """The opt-in works (so the refusals above are what keeps the payload from running)."""
    path = _payload_card_with_checkpoint(tmp_path / "zoo")
    monkeypatch.setenv("ROBENCH_MODELS", str(tmp_path / "zoo"))
    if where == "load_card":
        loaded = load_model(load_card(path, trust_code=True))
    elif where == "load_model":
        loaded = load_model("digits/linf/payload", trust_code=True)
    else:
        spec = ModelSpec(model="payload", trust_code=True)
        loaded = spec.load(spec.find_card(), data=None)
    assert (
        loaded.architecture == loaded.layout == "card_payload:make" and loaded.name == "digits/linf/payload"
    )
    assert side_effect_module.read_text() == "ran"


def test_code_typed_by_the_user_needs_no_trust(tmp_path, side_effect_module):
    loaded = load_model(arch="card_payload:make", num_classes=3, in_channels=1)
    assert loaded.layout == "card_payload:make" and side_effect_module.exists()
