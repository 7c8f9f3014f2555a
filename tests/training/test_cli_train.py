"""``robench train`` end to end: files on disk, a card the model loader accepts, one-line user errors."""

from __future__ import annotations

import csv
import json

import torch

from robench.cli import main
from robench.data import load_dataset
from robench.models.cards import load_card
from robench.models.checkpoint import sha256_file
from robench.models.loading import load_model

ARGS = [
    "train", "--recipe", "n-fgsm", "--dataset", "digits", "--eps", "3/10", "--epochs", "2",
    "--batch-size", "64", "--train-size", "256", "--optimizer", "adam", "--lr", "0.003",
    "--arch-kwargs", '{"width": 8}', "--monitor-n", "32", "--name", "tiny",
]  # fmt: skip


def test_train_writes_a_loadable_model_card_and_logs(tmp_path, capsys):
    assert main([*ARGS, "--out", str(tmp_path)]) == 0
    card = load_card(tmp_path / "tiny.toml")
    assert (card.recipe, card.eps, card.architecture, card.arch_kwargs) == (
        "n-fgsm",
        0.3,
        "small_cnn",
        {"width": 8},
    )
    assert (card.mean, card.std, card.num_classes) == ([0.0], [1.0], 10)
    assert card.sha256 == sha256_file(tmp_path / "tiny.safetensors")
    assert card.training["log"] == "tiny.log.csv" and card.paper == "de Jorge et al. 2022"
    rows = list(csv.DictReader((tmp_path / "tiny.log.csv").open()))
    assert [int(r["epoch"]) for r in rows] == [1, 2]
    log = json.loads((tmp_path / "tiny.log.json").read_text())
    assert log["validation"]["monitored"] == 32 and log["config"]["train_size"] == 256
    assert (tmp_path / "tiny.best.safetensors").exists() and not (tmp_path / "tiny.resume.json").exists()

    model = load_model(str(tmp_path / "tiny.toml")).module  # what robench evaluate --model does
    test = load_dataset("digits", "test")
    with torch.no_grad():
        assert model(test.images[:4]).shape == (4, 10)
    assert "evaluate with: robench evaluate --model" in capsys.readouterr().out


def test_user_errors_are_one_line(tmp_path, capsys):
    assert main([*ARGS, "--out", str(tmp_path), "--epochs", "1"]) == 0
    capsys.readouterr()
    assert main([*ARGS, "--out", str(tmp_path), "--epochs", "1"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("robench: error:") and "--overwrite" in err and "\n" not in err
    assert main([*ARGS, "--out", str(tmp_path), "--recipe", "tradez"]) == 2
    assert "did you mean 'trades'" in capsys.readouterr().err
    assert main([*ARGS, "--out", str(tmp_path), "--schedule", "cosine", "--overwrite"]) == 2
    assert "unknown schedule 'cosine'" in capsys.readouterr().err
    assert main([*ARGS, "--out", str(tmp_path), "--arch-kwargs", "{width: 8}"]) == 2
    assert "--arch-kwargs must be a JSON object" in capsys.readouterr().err


def test_no_keep_best_leaves_only_the_final_checkpoint(tmp_path):
    assert main([*ARGS, "--out", str(tmp_path), "--epochs", "1", "--no-keep-best"]) == 0
    assert not (tmp_path / "tiny.best.safetensors").exists()
    card = load_card(tmp_path / "tiny.toml")
    assert "best_checkpoint" not in card.training and card.training["epochs_run"] == 1
    log = json.loads((tmp_path / "tiny.log.json").read_text())
    assert log["checkpoints"]["best"] is None and log["best"]["epoch"] == 1
