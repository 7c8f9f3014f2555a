"""`robench models`: architectures and cards, as a table and as JSON; bad checkpoints exit 2 with one line."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from robench.cli import main
from robench.models.cards import write_card


@pytest.fixture
def zoo(tmp_path, tiny_digits_card):
    """A models root holding one good card (a copy of the tiny digits model)."""
    folder = tmp_path / "models" / "digits" / "linf"
    folder.mkdir(parents=True)
    shutil.copy(tiny_digits_card.checkpoint_path, folder / "tiny.safetensors")
    write_card(tiny_digits_card, folder / "tiny.toml")
    return tmp_path / "models"


def test_json_lists_architectures_and_cards(zoo, tiny_digits_card, capsys):
    assert main(["models", "--json", "--models-root", str(zoo)]) == 0
    listing = json.loads(capsys.readouterr().out)
    names = [a["name"] for a in listing["architectures"]]
    assert {"small_cnn", "preact_resnet18", "resnet18", "wide_resnet", "wrn_28_10", "wrn_34_10"} <= set(names)
    (card,) = listing["cards"]
    assert card["id"] == "digits/linf/tiny" and card["architecture"] == "small_cnn"
    assert card["recipe"] == "standard" and card["eps"] == 0.3 and card["sha256"] == tiny_digits_card.sha256


def test_table_shows_card_id_and_sha_prefix(zoo, tiny_digits_card, capsys, monkeypatch):
    monkeypatch.setenv("ROBENCH_MODELS", str(zoo))
    monkeypatch.setenv("COLUMNS", "200")
    assert main(["models", "--check"]) == 0
    out = capsys.readouterr()
    assert (
        "digits/linf/tiny" in out.out and tiny_digits_card.sha256[:12] in out.out and "wrn_34_10" in out.out
    )
    assert "checked 1 cards" in out.err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"<!DOCTYPE html><html><body>Please sign in</body></html>", "this looks like an HTML page"),
        (b"PK\x03\x04truncated", "truncated or corrupt checkpoint file"),
    ],
)
def test_bad_checkpoint_is_one_line_and_exit_2(zoo, content, message, capsys):
    (zoo / "digits" / "linf" / "tiny.safetensors").write_bytes(content)
    assert main(["models", "--check", "--models-root", str(zoo)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("robench: error: ") and message in err and "\n" not in err


def test_replaced_checkpoint_fails_the_sha256_check(zoo, capsys):
    path = zoo / "digits" / "linf" / "tiny.safetensors"
    data = bytearray(path.read_bytes())
    data[-1] ^= 1  # one flipped bit in the last weight: loads fine, but is not the card's file
    path.write_bytes(bytes(data))
    assert main(["models", "--check", "--models-root", str(zoo)]) == 2
    assert "is not the checkpoint the card describes" in capsys.readouterr().err


def test_subprocess_exit_code_and_no_traceback(zoo):
    (zoo / "digits" / "linf" / "broken.toml").write_text('name = "broken"\narchitecture = "small_cnn"\n')
    env = {**os.environ, "ROBENCH_MODELS": str(zoo), "OMP_NUM_THREADS": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "robench", "models"], capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"robench: error: model card {zoo / 'digits' / 'linf' / 'broken.toml'}: missing fields "
        "dataset, num_classes, threat, eps, mean, std, checkpoint, sha256"
    ]
    assert "Traceback" not in result.stderr
