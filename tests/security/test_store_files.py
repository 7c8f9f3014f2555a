"""A results store that is damaged, or another program's SQLite file, is one sentence and exit 2, and the
file (and its folder) is left exactly as it was: nothing is created in it, no -wal/-shm is left behind."""

from __future__ import annotations

import sqlite3

import pytest
from hostile_cli import assert_one_line_error, run_cli, sandbox, snapshot

from robench.errors import RobenchError
from robench.store import ResultsStore


def _damaged_store(path, tiny_digits_card) -> None:
    """A real store with one run, its middle pages then overwritten with garbage."""
    import robench

    result = robench.evaluate(str(tiny_digits_card.path), n=40, suite=["fgsm"], diagnostics=False)
    with ResultsStore(path) as store:
        for _ in range(8):  # enough pages that the damage lands inside the tables
            store.put(result)
    data = bytearray(path.read_bytes())
    page = 4096
    assert len(data) >= 6 * page
    data[2 * page : 5 * page] = bytes(range(256)) * (3 * page // 256)
    path.write_bytes(bytes(data))


def _foreign(path, *statements: str) -> None:
    with sqlite3.connect(path) as conn:
        for statement in statements:
            conn.execute(statement)
    conn.close()


FOREIGN = {
    "runs table": (
        "CREATE TABLE runs (id INTEGER PRIMARY KEY, name TEXT, started TEXT)",
        "INSERT INTO runs (name, started) VALUES ('nightly', '2026-01-01')",
    ),
    "other tables": (
        "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)",
        "INSERT INTO notes (body) VALUES ('x')",
    ),
    "robench's tables, other columns, version 1": (
        "CREATE TABLE runs (id INTEGER PRIMARY KEY, key TEXT)",
        "CREATE TABLE stages (run_id INTEGER)",
        "CREATE TABLE samples (run_id INTEGER)",
        "CREATE TABLE states (key TEXT)",
        "PRAGMA user_version = 1",
    ),
}


@pytest.fixture
def gate_args(tiny_digits_card):
    return ["gate", "--model", tiny_digits_card.path, "-n", "4", "--suite", "quick", "--no-diagnostics"]


@pytest.mark.parametrize("kind", FOREIGN)
def test_another_programs_sqlite_file_is_refused_and_left_as_it_was(
    kind, gate_args, tmp_path, monkeypatch, capsys
):
    sandbox(tmp_path, monkeypatch)
    path = tmp_path / "theirs.sqlite"
    _foreign(path, *FOREIGN[kind])
    before = snapshot(tmp_path)
    code, _, err = run_cli(capsys, *gate_args, "--store", path, "--min-clean", "0")
    assert_one_line_error(
        code, err, r"theirs.sqlite is not a robench results store \(another program's SQLite"
    )
    assert snapshot(tmp_path) == before
    with pytest.raises(RobenchError, match="not a robench results store"):
        ResultsStore(path).runs()
    assert snapshot(tmp_path) == before


def test_a_store_with_damaged_pages_is_refused_and_left_as_it_was(
    tiny_digits_card, gate_args, tmp_path, monkeypatch, capsys
):
    path = tmp_path / "store" / "damaged.sqlite"
    path.parent.mkdir()
    _damaged_store(path, tiny_digits_card)
    sandbox(tmp_path, monkeypatch)
    before = snapshot(tmp_path)
    code, _, err = run_cli(capsys, *gate_args, "--store", path, "--min-clean", "0")
    assert_one_line_error(code, err, r"damaged.sqlite is damaged \(SQLite: .+\); restore it from a backup")
    assert snapshot(tmp_path) == before
    submit = ["submit", tiny_digits_card.checkpoint_path, "--card", tiny_digits_card.path, "--store", path]
    code, _, err = run_cli(capsys, *submit)
    assert_one_line_error(code, err, "is damaged")
    assert snapshot(tmp_path) == before


def test_a_file_that_is_not_sqlite_is_refused_and_left_as_it_was(gate_args, tmp_path, monkeypatch, capsys):
    sandbox(tmp_path, monkeypatch)
    path = tmp_path / "notes.txt"
    path.write_text("my notes\n" * 500)
    before = snapshot(tmp_path)
    code, _, err = run_cli(capsys, *gate_args, "--store", path, "--min-clean", "0")
    assert_one_line_error(code, err, "cannot open the results store .*notes.txt: file is not a database")
    assert snapshot(tmp_path) == before


def test_a_store_of_every_schema_robench_wrote_is_accepted(tmp_path):
    from robench.store.db import MIGRATIONS, SCHEMA_VERSION

    for version in range(SCHEMA_VERSION + 1):
        path = tmp_path / f"v{version}.sqlite"
        with sqlite3.connect(path) as conn:
            for step in MIGRATIONS[:version]:
                conn.executescript(step)
            conn.execute(f"PRAGMA user_version = {version}")
        conn.close()
        with ResultsStore(path) as store:
            assert store.runs() == [] and store.integrity_problems() == []
