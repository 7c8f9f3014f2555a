"""``--arch-kwargs``: the same JSON option on evaluate, gate, submit and train, one parser, one error."""

from __future__ import annotations

import json

import pytest

from robench.cli import main

SUITE = 'name = "one"\nversion = "1"\nattacks = ["fgsm"]\n'


@pytest.fixture
def tiny(tiny_digits_card, tmp_path):
    suite = tmp_path / "suite.toml"
    suite.write_text(SUITE)
    checkpoint = str(tiny_digits_card.checkpoint_path)
    width = json.dumps(tiny_digits_card.arch_kwargs)  # the tiny network is narrower than small_cnn's default
    return checkpoint, width, str(suite)


def _evaluate(checkpoint: str, suite: str, *extra: str) -> list[str]:
    argv = ["evaluate", "--checkpoint", checkpoint, "--arch", "small_cnn", "--dataset", "digits"]
    argv += ["--threat", "linf", "--eps", "0.1", "--suite", suite, "--n", "30", "--no-diagnostics"]
    return [*argv, *extra]


def test_evaluate_builds_the_architecture_with_the_given_kwargs(tiny, tmp_path, capsys):
    checkpoint, width, suite = tiny
    assert main(_evaluate(checkpoint, suite)) == 2  # default width: the weights do not fit
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "shape" in err
    out = tmp_path / "r.json"
    assert main(_evaluate(checkpoint, suite, "--arch-kwargs", width, "--out", str(out))) == 0
    record = json.loads(out.read_text())
    assert record["n"] == 30 and record["clean_acc"] >= 0.9  # the trained weights were loaded


def test_gate_takes_arch_kwargs(tiny, tmp_path, capsys):
    checkpoint, width, suite = tiny
    argv = ["gate", "--checkpoint", checkpoint, "--arch", "small_cnn", "--arch-kwargs", width,
            "--dataset", "digits", "--threat", "linf", "--eps", "0.1", "--suite", suite, "--n", "30",
            "--min-clean", "0.9", "--store", str(tmp_path / "store.db"), "--no-diagnostics"]  # fmt: skip
    assert main(argv) == 0, capsys.readouterr().err


def test_a_card_fixes_the_kwargs(tiny_digits_card, tmp_path, capsys):
    argv = ["evaluate", "--model", str(tiny_digits_card.path), "--arch-kwargs", '{"width": 8}', "-n", "10"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "fixes these settings; drop arch_kwargs" in err


@pytest.mark.parametrize("command", ["evaluate", "gate", "train"])
@pytest.mark.parametrize("text", ["{width: 16}", "[16]", "3"])
def test_bad_json_is_one_line_error(command, text, capsys):
    argv = [command, "--arch", "small_cnn", "--arch-kwargs", text, "--dataset", "digits"]
    argv += ["--checkpoint", "x.safetensors"] if command != "train" else ["--out", "unused"]
    assert main(argv) == 2
    expected = f"--arch-kwargs must be a JSON object such as {{\"width\": 16}}, got '{text}'"
    assert capsys.readouterr().err == f"robench: error: {expected}\n"
