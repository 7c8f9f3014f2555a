"""``robench submit``: adds an entry, reuses stored results, refuses bad submissions, resumes after a kill."""

from __future__ import annotations

import json
import os
import shlex
import signal
import sqlite3
import subprocess
import sys
import textwrap
from dataclasses import replace

import pytest

from robench.cli import main
from robench.models.cards import write_card
from robench.pipeline.submit import EVALUATION_N
from robench.store import ResultsStore


@pytest.fixture
def places(tmp_path):
    return {"store": tmp_path / "store.sqlite", "lb": tmp_path / "lb", "rp": tmp_path / "rp"}


def _submit(places, *args: str) -> int:
    return main(
        ["submit", *args, "--store", str(places["store"]), "--leaderboards", str(places["lb"]),
         "--reports", str(places["rp"])]
    )  # fmt: skip


def _no_attack_may_run(monkeypatch) -> None:
    def refuse(*args, **kwargs):
        raise AssertionError("an evaluation ran although the stored result should have been reused")

    monkeypatch.setattr("robench.engine.evaluate.evaluate", refuse)


def _runs(places) -> int:
    if not places["store"].exists():
        return 0
    with ResultsStore(places["store"]) as store:
        return len(store.runs())


@pytest.mark.slow
def test_submit_adds_an_entry_then_reuses_the_stored_result(places, tiny_digits_card, monkeypatch, capsys):
    card = str(tiny_digits_card.path)
    assert _submit(places, str(tiny_digits_card.checkpoint_path), "--card", card) == 0
    out = capsys.readouterr().out
    assert "digits/linf/tiny: evaluated and stored" in out
    entry_path = places["lb"] / "digits" / "linf" / "entries" / "tiny.json"
    entry = json.loads(entry_path.read_text())
    assert (
        entry["n"] == EVALUATION_N["digits"]
        and entry["suite"]["name"] == "standard"
        and entry["verdict"] in ("reliable", "unreliable")
    )
    assert (
        entry["checkpoint_sha256"] == tiny_digits_card.sha256 and entry["model_card"]["recipe"] == "standard"
    )
    assert entry["robust_acc"] <= 0.05 < 0.9 <= entry["clean_acc"]  # an undefended model at eps 0.3
    board = (places["lb"] / "digits" / "linf.md").read_text()
    assert "| [tiny](" in board  # the model links to its report
    report = places["rp"] / "digits" / "linf" / "tiny.md"
    assert report.is_file() and (report.parent / "tiny.eps.png").is_file()
    checkpoint = os.path.relpath(tiny_digits_card.checkpoint_path.resolve())  # relative, even outside cwd
    assert f"robench submit {checkpoint} --card " in report.read_text()
    assert _runs(places) == 1

    _no_attack_may_run(monkeypatch)
    entry_path.unlink()
    assert _submit(places, "--card", card) == 0  # CHECKPOINT defaults to the card's
    assert "reused the stored result" in capsys.readouterr().out
    assert json.loads(entry_path.read_text())["robust_acc"] == entry["robust_acc"]
    assert _runs(places) == 1


@pytest.mark.slow
def test_force_re_runs_and_keeps_both_runs(places, tiny_digits_card, capsys):
    for extra in ((), ("--force",)):
        assert _submit(places, "--card", str(tiny_digits_card.path), *extra) == 0
    assert "evaluated and stored" in capsys.readouterr().out.splitlines()[-4]
    assert _runs(places) == 2


def _bad_card(card, tmp_path, **change):
    folder = tmp_path / "bad"
    folder.mkdir(exist_ok=True)
    (folder / card.checkpoint).write_bytes(card.checkpoint_path.read_bytes())
    bad = replace(card, **change, path=None)
    write_card(bad, folder / f"{bad.name}.toml")
    return folder / f"{bad.name}.toml"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"sha256": "0" * 64}, "is not the checkpoint the card describes"),
        ({"arch_kwargs": {"width": 32}}, "small_cnn"),
        ({"num_classes": 5}, "says 5 classes but digits has 10"),
        ({"mean": [0.0, 0.0, 0.0], "std": [1.0, 1.0, 1.0]}, "3-channel mean/std but digits images have 1"),
    ],
)
def test_failed_validation_leaves_nothing_and_says_why_in_one_line(
    places, tiny_digits_card, tmp_path, capsys, change, message
):
    card = _bad_card(tiny_digits_card, tmp_path, **change)
    assert _submit(places, "--card", str(card)) == 2
    err = capsys.readouterr().err
    assert err.startswith("robench: error: ") and err.count("\n") == 1 and message in err
    assert not places["lb"].exists() and not places["rp"].exists()
    assert _runs(places) == 0


def test_missing_checkpoint_or_fields_are_one_line_errors(places, tmp_path, capsys):
    assert _submit(places, str(tmp_path / "nope.safetensors"), "--arch", "small_cnn") == 2
    assert (
        "give --card CARD, or the card's fields as flags (missing --name, --dataset"
        in capsys.readouterr().err
    )
    args = ["--name", "x", "--arch", "small_cnn", "--dataset", "digits", "--threat", "linf", "--eps", "0.3"]
    assert _submit(places, str(tmp_path / "nope.safetensors"), *args) == 2
    assert "nope.safetensors does not exist" in capsys.readouterr().err
    assert not places["lb"].exists()


_FLAGS = ["--name", "flagged", "--arch", "small_cnn", "--dataset", "digits"]
_FLAGS += ["--threat", "linf", "--eps", "0.3"]


def test_arch_kwargs_from_flags_reach_the_model_the_entry_and_the_report_command(
    places, tiny_digits_card, monkeypatch, capsys
):
    monkeypatch.setitem(EVALUATION_N, "digits", 40)  # a short evaluation: only the card's path is tested
    checkpoint = str(tiny_digits_card.checkpoint_path)
    assert _submit(places, checkpoint, *_FLAGS) == 2  # small_cnn's default width 32 does not fit
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "small_cnn" in err and not places["lb"].exists()

    assert _submit(places, checkpoint, *_FLAGS, "--arch-kwargs", '{"width": 16}') == 0
    assert "digits/linf/flagged: evaluated and stored" in capsys.readouterr().out
    entry = json.loads((places["lb"] / "digits" / "linf" / "entries" / "flagged.json").read_text())
    assert entry["model_card"]["arch_kwargs"] == {"width": 16} and entry["n"] == 40
    assert entry["clean_acc"] >= 0.9  # the trained weights were loaded into the width-16 network
    report = (places["rp"] / "digits" / "linf" / "flagged.md").read_text()
    command = next(line for line in report.splitlines() if "robench submit" in line)
    assert """--arch small_cnn --arch-kwargs '{"width": 16}'""" in command
    assert "--num-classes 10 --mean 0.0 --std 1.0 --dataset digits" in command
    argv = shlex.split(command[command.index("robench submit") :].rstrip("`"))
    assert argv[:2] == ["robench", "submit"]
    assert _submit(places, *argv[2:]) == 0  # the report's command re-runs the submission as it was
    assert _runs(places) == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            [*_FLAGS, "--arch-kwargs", "{width: 16}"],
            "--arch-kwargs must be a JSON object such as {\"width\": 16}, got '{width: 16}'",
        ),
        (
            [*_FLAGS, "--arch-kwargs", "[16]"],
            "--arch-kwargs must be a JSON object such as {\"width\": 16}, got '[16]'",
        ),
        (["--card", "c.toml", "--arch-kwargs", "{}"], "--card fixes the model's fields; drop --arch-kwargs"),
    ],
)
def test_bad_arch_kwargs_are_one_line_errors(places, tmp_path, capsys, args, message):
    assert _submit(places, str(tmp_path / "x.safetensors"), *args) == 2
    err = capsys.readouterr().err
    assert err == f"robench: error: {message}\n"
    assert not places["lb"].exists() and _runs(places) == 0


@pytest.mark.slow
def test_a_board_keeps_one_eps(places, tiny_digits_card, tmp_path, capsys):
    assert _submit(places, "--card", str(tiny_digits_card.path)) == 0
    other = _bad_card(tiny_digits_card, tmp_path, name="other", eps=0.2)
    assert _submit(places, "--card", str(other)) == 2
    assert "board is evaluated at eps 0.3 (entry 'tiny') but card digits/linf/other says eps 0.2" in (
        capsys.readouterr().err
    )
    assert [p.name for p in (places["lb"] / "digits" / "linf" / "entries").iterdir()] == ["tiny.json"]


_KILLED_SUBMIT = textwrap.dedent(
    """
    import sys, time
    from robench.models.cards import load_card
    from robench.pipeline.submit import SubmitSettings, submit
    from robench.store import ResultsStore, SqliteState

    card, store, lb, rp = sys.argv[1:5]
    original = SqliteState.save
    saves = []

    def save(self, state):
        original(self, state)
        saves.append(1)
        print("saved", len(saves), flush=True)
        if len(saves) == 2:
            time.sleep(120)  # killed here, with the clean pass and the first stage stored

    SqliteState.save = save
    submit(load_card(card), settings=SubmitSettings(leaderboards=lb, reports=rp), store=ResultsStore(store))
    """
)


@pytest.mark.slow
def test_a_killed_submission_leaves_the_store_consistent_and_resumes(
    places, tiny_digits_card, tmp_path, monkeypatch
):
    script = tmp_path / "killed_submit.py"
    script.write_text(_KILLED_SUBMIT)
    argv = [str(tiny_digits_card.path), str(places["store"]), str(places["lb"]), str(places["rp"])]
    child = subprocess.Popen(
        [sys.executable, str(script), *argv],
        stdout=subprocess.PIPE,
        text=True,
        env=os.environ | {"OMP_NUM_THREADS": "1"},
    )
    try:
        lines = [child.stdout.readline().strip() for _ in range(2)]
        assert lines == ["saved 1", "saved 2"]
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=60)
    with ResultsStore(places["store"]) as store:
        assert store.integrity_problems() == [] and store.runs() == []
    with sqlite3.connect(places["store"]) as conn:
        assert conn.execute("SELECT COUNT(*) FROM states").fetchone()[0] == 1
    assert not (places["lb"] / "digits" / "linf" / "entries" / "tiny.json").exists()

    from robench.store import SqliteState

    loaded = []
    original_load = SqliteState.load
    monkeypatch.setattr(SqliteState, "load", lambda self: loaded.append(original_load(self)) or loaded[-1])
    assert _submit(places, "--card", str(tiny_digits_card.path)) == 0
    assert (
        loaded and loaded[0] is not None and loaded[0]["stage_cost"][0]["forward"] > 0
    )  # resumed, not restarted
    with sqlite3.connect(places["store"]) as conn:
        assert conn.execute("SELECT COUNT(*) FROM states").fetchone()[0] == 0
    resumed = json.loads((places["lb"] / "digits" / "linf" / "entries" / "tiny.json").read_text())

    fresh = {"store": tmp_path / "fresh.sqlite", "lb": tmp_path / "lb2", "rp": tmp_path / "rp2"}
    assert _submit(fresh, "--card", str(tiny_digits_card.path)) == 0
    with ResultsStore(places["store"]) as a, ResultsStore(fresh["store"]) as b:
        first, second = a.get(a.runs()[0].id), b.get(b.runs()[0].id)
    assert [(s.robust, s.broken_by) for s in first.samples] == [
        (s.robust, s.broken_by) for s in second.samples
    ]
    assert resumed["robust_acc"] == second.robust_acc and resumed["clean_acc"] == second.clean_acc
