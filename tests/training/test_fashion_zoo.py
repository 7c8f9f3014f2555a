"""The Fashion-MNIST zoo's definition, its early-stop selection, and the zoo/demo dataset choice."""

from __future__ import annotations

import json

import pytest
import torch

from robench.cli import main
from robench.errors import RobenchError
from robench.models.cards import load_card
from robench.models.checkpoint import read_state_dict, sha256_file
from robench.models.loading import load_model
from robench.training.zoo import FASHION_ZOO, SELECT_BEST, ZOO, finish_card, zoo_for

TINY = [
    "train", "--recipe", "fgsm-rs", "--dataset", "digits", "--eps", "0.1", "--epochs", "3",
    "--batch-size", "64", "--train-size", "512", "--optimizer", "adam", "--lr", "0.01",
    "--arch-kwargs", '{"width": 8}', "--monitor-n", "32", "--name", "tiny",
]  # fmt: skip


def test_the_fashion_zoo_is_six_recipes_in_wong_and_koltors_net_at_eps_0_1():
    assert list(FASHION_ZOO) == ["standard", "pgd", "trades", "fgsm", "fgsm-rs", "ibp"]
    for name, config in FASHION_ZOO.items():
        assert (config.recipe, config.dataset, config.eps, config.arch) == (
            name,
            "fashion-mnist",
            0.1,
            "wk_small_mnist",
        )
        assert config.keep_best and config.train_size is None  # every training image but the held-out 1,000
    assert set(SELECT_BEST["fashion-mnist"]) == {"pgd", "trades", "fgsm-rs"}
    assert zoo_for("digits") is ZOO and zoo_for("fashion-mnist") is FASHION_ZOO
    with pytest.raises(RobenchError, match="robench ships no 'cifar10' zoo"):
        zoo_for("cifar10")


def test_finish_card_points_the_card_at_the_best_validation_epoch(tmp_path):
    assert main([*TINY, "--out", str(tmp_path)]) == 0
    card_path = tmp_path / "tiny.toml"
    final_sha = load_card(card_path).sha256
    finish_card(card_path, best=True)
    card = load_card(card_path)
    log = json.loads((tmp_path / "tiny.log.json").read_text())
    assert card.checkpoint == "tiny.best.safetensors" and card.sha256 == sha256_file(
        tmp_path / card.checkpoint
    )
    assert card.training["selected_checkpoint"] == "best"
    assert card.training["selected_epoch"] == log["best"]["epoch"]
    assert (card.training["train_size"], card.training["val_size"]) == (512, 143)  # digits holds out 143
    assert "pgd-10" in card.training["validation"]
    assert card.sha256 != final_sha or log["best"]["epoch"] == 3
    model = load_model(str(card_path)).module  # the card loads, with the best epoch's weights
    best = read_state_dict(tmp_path / "tiny.best.safetensors")
    assert all(torch.equal(v, best[k]) for k, v in model.state_dict().items() if k in best)


@pytest.mark.parametrize("command", [["demo", "--dataset", "cifar10"], ["train-zoo", "--dataset", "mnist"]])
def test_a_dataset_without_a_zoo_is_one_line(command, capsys):
    assert main(command) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("robench: error:") and "ships no" in err and "\n" not in err
