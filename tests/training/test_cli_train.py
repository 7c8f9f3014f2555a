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
    "train", "--recipe", "n-fgsm", "--dataset", "digits", "--eps", "1/10", "--epochs", "3",
    "--batch-size", "64", "--train-size", "512", "--optimizer", "adam", "--lr", "0.01",
    "--arch-kwargs", '{"width": 8}', "--monitor-n", "32", "--name", "tiny",
]  # fmt: skip


def test_train_writes_a_loadable_model_card_and_logs(tmp_path, capsys):
    assert main([*ARGS, "--out", str(tmp_path)]) == 0
    card = load_card(tmp_path / "tiny.toml")
    assert (card.recipe, card.eps, card.architecture, card.arch_kwargs) == (
        "n-fgsm",
        0.1,
        "small_cnn",
        {"width": 8},
    )
    assert (card.mean, card.std, card.num_classes) == ([0.0], [1.0], 10)
    assert card.sha256 == sha256_file(tmp_path / "tiny.safetensors")
    assert card.training["log"] == "tiny.log.csv" and card.paper == "de Jorge et al. 2022"
    rows = list(csv.DictReader((tmp_path / "tiny.log.csv").open()))
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3]
    log = json.loads((tmp_path / "tiny.log.json").read_text())
    assert log["validation"]["monitored"] == 32 and log["config"]["train_size"] == 512
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


def test_a_run_that_never_learns_fails_with_its_cause_in_the_message_and_the_card(tmp_path, capsys):
    """SGD at lr 50 blows the network up (loss NaN): the run writes its files, flags itself and exits 1."""
    args = ["train", "--recipe", "standard", "--epochs", "2", "--train-size", "128", "--monitor-n", "32"]
    args += ["--optimizer", "sgd", "--lr", "50", "--arch-kwargs", '{"width": 8}', "--out", str(tmp_path)]
    assert main(args) == 1
    captured = capsys.readouterr()
    assert "flags: not_learning" in captured.out
    assert "robench: error: the model did not learn" in captured.err and "--optimizer adam" in captured.err
    card = load_card(tmp_path / "standard.toml")
    assert card.training["not_learning"] is True
    log = json.loads((tmp_path / "standard.log.json").read_text())
    assert log["flags"]["not_learning"] and "chance 0.100" in log["flags"]["not_learning_reason"]
