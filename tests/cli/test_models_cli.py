"""`robench models`: architectures and cards, as a table and as JSON; bad checkpoints exit 2 with one line."""

from __future__ import annotations

import builtins
import dataclasses
import json
import os
import pickle
import shutil
import subprocess
import sys

import pytest

from robench.cli import main
from robench.models import create_model
from robench.models.cards import load_card, write_card
from robench.models.checkpoint import save_checkpoint, sha256_file


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


def _html(path):
    path.write_bytes(b"<!DOCTYPE html><html><body>Please sign in</body></html>")


def _truncated(path):
    path.write_bytes(path.read_bytes()[:300])


def _missing(path):
    path.unlink()


def _other_arch(path):
    save_checkpoint(create_model("small_cnn", num_classes=10, in_channels=1, width=8), path)


def _other_classes(path):
    save_checkpoint(create_model("small_cnn", num_classes=5, in_channels=1, width=16), path)


@pytest.mark.parametrize(
    ("spoil", "message"),
    [
        (_html, "this looks like an HTML page"),
        (_truncated, "is a truncated or corrupt safetensors file"),
        (_missing, "does not exist"),
        (_other_arch, "does not fit architecture 'small_cnn': 5 shape mismatches"),
        (_other_classes, "has 5 output classes but the model is built for 10"),
    ],
)
def test_bad_checkpoint_is_one_line_and_exit_2(zoo, spoil, message, capsys):
    path = zoo / "digits" / "linf" / "tiny.safetensors"
    spoil(path)
    if path.exists():  # the card vouches for the new file: only the problem itself is left to find
        card = load_card(path.with_suffix(".toml"))
        write_card(dataclasses.replace(card, sha256=sha256_file(path)), card.path)
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


def test_broken_card_is_one_line(zoo, capsys):
    (zoo / "digits" / "linf" / "broken.toml").write_text('name = "broken"\narchitecture = "small_cnn"\n')
    assert main(["models", "--models-root", str(zoo)]) == 2
    assert capsys.readouterr().err.strip() == (
        f"robench: error: model card {zoo / 'digits' / 'linf' / 'broken.toml'}: missing fields "
        "dataset, num_classes, threat, eps, checkpoint, sha256"  # mean/std may be left to the checkpoint
    )


class _Payload:
    def __reduce__(self):
        return (builtins.open, ("pwned-by-checkpoint", "w"))  # relative: created in the cwd if it ever ran


def test_malicious_checkpoint_in_a_real_process_runs_nothing(zoo, tmp_path):
    path = zoo / "digits" / "linf" / "tiny.safetensors"
    path.with_suffix(".pt").write_bytes(pickle.dumps({"conv.weight": _Payload()}, protocol=2))
    path.unlink()
    card = load_card(path.with_suffix(".toml"))
    pt = path.with_suffix(".pt")
    write_card(dataclasses.replace(card, checkpoint=pt.name, sha256=sha256_file(pt)), card.path)
    env = {**os.environ, "ROBENCH_MODELS": str(zoo), "OMP_NUM_THREADS": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "robench", "models", "--check"],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120,
    )  # fmt: skip
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("robench: error: ") and "pickled Python objects, not just tensors" in line
    assert not (tmp_path / "pwned-by-checkpoint").exists()


def test_a_card_naming_code_is_listed_but_never_run(zoo, tmp_path, capsys, monkeypatch):
    """`robench models` lists a hostile card without importing it; --check refuses it in one line."""
    marker = tmp_path / "imported"
    (tmp_path / "zoo_payload.py").write_text(
        f"import pathlib\npathlib.Path({str(marker)!r}).write_text('ran')\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    card = load_card(zoo / "digits" / "linf" / "tiny.toml")
    for name, architecture in (("system", "os:system"), ("payload", "zoo_payload:make")):
        write_card(
            dataclasses.replace(card, name=name, architecture=architecture),
            zoo / "digits" / "linf" / f"{name}.toml",
        )
    assert main(["models", "--json", "--models-root", str(zoo)]) == 0
    listed = {c["id"]: c["architecture"] for c in json.loads(capsys.readouterr().out)["cards"]}
    assert listed["digits/linf/payload"] == "zoo_payload:make" and listed["digits/linf/system"] == "os:system"
    assert main(["models", "--check", "--models-root", str(zoo)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("robench: error: model card ") and "names code to run ('zoo_payload:make')" in err
    assert "\n" not in err and not marker.exists() and "zoo_payload" not in sys.modules
