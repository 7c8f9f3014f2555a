"""Command-line values checked before any work: a seed beyond int64 or negative, an output path that
cannot be written (a folder, a path under a file, /proc), ``train --out`` naming a file and
``train --name`` naming a path are one line and exit 2, nothing is evaluated or trained, and nothing is
written anywhere."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hostile_cli import assert_one_line_error, run_cli, sandbox, snapshot

SEED = r"the seed \(--seed\) must be an integer from 0 to 2\*\*63 - 1, got "


@pytest.fixture
def nothing_runs(monkeypatch):
    """Fails the test if an evaluation or a training run gets as far as starting."""
    from robench.engine.evaluation import Evaluation
    from robench.training import loop

    def started(*args, **kwargs):
        raise AssertionError("the work started before the refusal")

    monkeypatch.setattr(Evaluation, "__init__", started)
    monkeypatch.setattr(loop, "_Run", started)


@pytest.fixture
def evaluate_args(tiny_digits_card):
    return ["evaluate", "--model", tiny_digits_card.path, "-n", "4", "--suite", "quick", "--no-diagnostics"]


@pytest.mark.parametrize("seed", ["18446744073709551616", "-1"])
@pytest.mark.parametrize("command", ["evaluate", "gate", "submit", "train"])
def test_a_seed_outside_int64_is_one_line(
    command, seed, tiny_digits_card, tmp_path, monkeypatch, capsys, nothing_runs
):
    sandbox(tmp_path, monkeypatch)
    before = snapshot(tmp_path)
    card = tiny_digits_card
    args = {
        "evaluate": ["evaluate", "--model", card.path],
        "gate": ["gate", "--model", card.path],
        "submit": ["submit", card.checkpoint_path, "--card", card.path],
        "train": ["train", "--out", tmp_path / "trained", "--epochs", "1"],
    }[command]
    code, _, err = run_cli(capsys, *args, f"--seed={seed}")
    assert_one_line_error(code, err, SEED + re.escape(seed) + "$")
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("where", ["a folder", "under a file", "in /proc"])
def test_evaluate_out_that_cannot_be_written_is_refused_before_the_evaluation(
    where, evaluate_args, tmp_path, monkeypatch, capsys, nothing_runs
):
    sandbox(tmp_path, monkeypatch)
    (tmp_path / "results").mkdir()
    (tmp_path / "file").write_text("not a folder\n")
    out = {
        "a folder": tmp_path / "results",
        "under a file": tmp_path / "file" / "x.json",
        "in /proc": "/proc/x.json",
    }[where]
    said = {
        "a folder": r"--out .*results is a folder; give a file path",
        "under a file": r"--out .*file/x.json cannot be written: .*file is a file, not a folder",
        "in /proc": r"--out /proc/x.json cannot be written \(",
    }[where]
    before = snapshot(tmp_path)
    code, _, err = run_cli(capsys, *evaluate_args, "--out", out)
    assert_one_line_error(code, err, said)
    assert snapshot(tmp_path) == before


def test_the_other_output_options_are_checked_before_the_work(
    tiny_digits_card, tmp_path, monkeypatch, capsys, nothing_runs
):
    sandbox(tmp_path, monkeypatch)
    (tmp_path / "file").write_text("not a folder\n")
    card = tiny_digits_card
    submit = ["submit", card.checkpoint_path, "--card", card.path]
    cases = [
        (["gate", "--model", card.path, "--junit", tmp_path], r"--junit .* is a folder"),
        (["certify", "--model", card.path, "--out", "/proc/c.json"], r"--out /proc/c.json cannot be"),
        ([*submit, "--leaderboards", tmp_path / "file"], r"--leaderboards .*file is a file, not a folder"),
        (
            [*submit, "--reports", tmp_path / "file" / "r"],
            r"--reports .*file/r cannot be written: .*file is a",
        ),
    ]
    before = snapshot(tmp_path)
    for args, said in cases:
        code, _, err = run_cli(capsys, *args)
        assert_one_line_error(code, err, said)
    assert snapshot(tmp_path) == before


def test_train_out_naming_a_file_is_refused_before_training(tmp_path, monkeypatch, capsys, nothing_runs):
    sandbox(tmp_path, monkeypatch)
    (tmp_path / "model.bin").write_bytes(b"someone's file")
    before = snapshot(tmp_path)
    code, _, err = run_cli(capsys, "train", "--out", tmp_path / "model.bin", "--epochs", "1")
    assert_one_line_error(code, err, r"--out .*model.bin is a file, not a folder")
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("name", ["../../escaped", "/tmp/escaped", "a/b", ".hidden", "x\ny", ""])
def test_train_name_that_is_a_path_is_refused_before_training(
    name, tmp_path, monkeypatch, capsys, nothing_runs
):
    sandbox(tmp_path, monkeypatch)
    out = tmp_path / "a" / "b" / "models"
    before = snapshot(tmp_path)
    code, _, err = run_cli(capsys, "train", "--out", out, "--name", name, "--epochs", "1")
    assert_one_line_error(
        code, err, r"run name \(--name\) .* is not a name: use 1 to 100 letters, digits and \. _ \+ -"
    )
    assert snapshot(tmp_path) == before
    escaped = [
        out.parent.parent / "escaped.toml",
        tmp_path.parent / "escaped.toml",
        Path("/tmp/escaped.toml"),
    ]
    assert not any(path.exists() for path in escaped)
