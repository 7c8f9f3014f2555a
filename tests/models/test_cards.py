"""Model cards: the TOML/YAML format of docs/evaluate.md, validation, and lookup by id or bare name."""

from __future__ import annotations

import pytest
import tomli_w

from robench.errors import RobenchError
from robench.models.cards import ModelCard, find_card, list_cards, load_card, models_root, write_card

SHA = "ab" * 32


def _fields(**changes) -> dict:
    fields = {
        "name": "pgd",
        "architecture": "small_cnn",
        "dataset": "digits",
        "num_classes": 10,
        "threat": "linf",
        "eps": 0.3,
        "mean": [0.0],
        "std": [1.0],
        "checkpoint": "pgd.safetensors",
        "sha256": SHA,
        "recipe": "pgd",
        "source": "robench",
        "paper": "Madry et al. 2018",
    }
    fields.update(changes)
    return {k: v for k, v in fields.items() if v is not None}


def _write(root, folder: str | None = None, **changes):
    fields = _fields(**changes)
    folder = folder or f"{fields.get('dataset')}/{fields.get('threat')}"
    path = root / folder / f"{fields.get('name', 'pgd')}.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(tomli_w.dumps(fields))
    return path


def test_card_round_trip_in_the_documented_format(tmp_path):
    path = _write(tmp_path, arch_kwargs={"width": 16}, training={"epochs": 5, "log": "pgd.log.csv"})
    card = load_card(path)
    assert card.id == "digits/linf/pgd" and card.in_channels == 1
    assert card.eps == 0.3 and card.arch_kwargs == {"width": 16} and card.training["epochs"] == 5
    assert card.checkpoint_path == path.resolve().parent / "pgd.safetensors"
    copy = tmp_path / "copy" / "pgd.toml"
    write_card(card, copy)
    assert load_card(copy) == card


def test_yaml_cards_are_read_too(tmp_path):
    import yaml

    path = tmp_path / "cifar10" / "l2" / "big.yaml"
    path.parent.mkdir(parents=True)
    fields = _fields(name="big", dataset="cifar10", threat="l2", eps=0.5, mean=[0.5] * 3, std=[0.25] * 3)
    path.write_text(yaml.safe_dump(fields))
    assert load_card(path).id == "cifar10/l2/big" and load_card(path).in_channels == 3


def test_eps_fraction_is_parsed_exactly(tmp_path):
    assert load_card(_write(tmp_path, eps="8/255")).eps == 8 / 255


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"archtecture": "x"}, "unknown field 'archtecture' \\(did you mean 'architecture'\\?\\)"),
        ({"sha256": None}, "missing field sha256"),
        ({"sha256": "1234"}, "'sha256' must be 64 hexadecimal digits"),
        ({"num_classes": "10"}, "'num_classes' must be an integer >= 2"),
        ({"threat": "linfinity"}, "'threat' must be one of linf, l2"),
        ({"eps": "big"}, "'eps' must be a number"),
        ({"std": [1.0, 1.0]}, "'mean' has 1 values but 'std' has 2"),
        ({"std": [0.0]}, "'std' values must be positive"),
        ({"arch_kwargs": 3}, "'\\[arch_kwargs\\]' must be a table"),
    ],
)
def test_invalid_cards_are_one_line_errors(tmp_path, changes, message):
    path = _write(tmp_path, **changes)
    with pytest.raises(RobenchError, match=message) as info:
        load_card(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_name_must_equal_file_stem(tmp_path):
    path = _write(tmp_path)
    path.rename(path.with_name("other.toml"))
    with pytest.raises(RobenchError, match="'name' is 'pgd' but must equal the file name 'other'"):
        load_card(path.with_name("other.toml"))


def test_broken_toml_is_one_line(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('name = "bad\narchitecture = 3\n')
    with pytest.raises(RobenchError, match="is not valid TOML") as info:
        load_card(path)
    assert "\n" not in str(info.value)


def test_list_and_find_cards(tmp_path):
    _write(tmp_path)
    _write(tmp_path, name="trades", recipe="trades")
    _write(tmp_path, dataset="mnist", eps=0.3)
    assert [c.id for c in list_cards(tmp_path)] == ["digits/linf/pgd", "digits/linf/trades", "mnist/linf/pgd"]
    assert find_card("trades", tmp_path).recipe == "trades"
    assert find_card("mnist/linf/pgd", tmp_path).dataset == "mnist"
    with pytest.raises(RobenchError, match="'pgd' is ambiguous: digits/linf/pgd, mnist/linf/pgd"):
        find_card("pgd", tmp_path)
    with pytest.raises(RobenchError, match="did you mean 'trades'"):
        find_card("trade", tmp_path)
    path = tmp_path / "digits" / "linf" / "trades.toml"
    assert find_card(str(path)).name == "trades"


def test_card_in_the_wrong_folder_is_reported(tmp_path):
    _write(tmp_path, folder="digits/l2")  # says linf, lies in l2
    with pytest.raises(RobenchError, match="says digits/linf but lies in digits/l2"):
        list_cards(tmp_path)


def test_models_root_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("ROBENCH_MODELS", str(tmp_path))
    assert models_root() == tmp_path
    _write(tmp_path)
    assert find_card("pgd").id == "digits/linf/pgd"


def test_write_card_refuses_an_invalid_card(tmp_path):
    card = ModelCard(**_fields(sha256="nothex"))
    with pytest.raises(RobenchError, match="'sha256' must be 64 hexadecimal digits"):
        write_card(card, tmp_path / "pgd.toml")
    assert not (tmp_path / "pgd.toml").exists()
