"""Leaderboard entries from pull requests: every field of the wrong type is one line naming it, and no
board or report file is written."""

from __future__ import annotations

import json

import pytest

from robench.core.limits import ENTRY_BYTES


def _set(data: dict, path: str, value) -> dict:
    *parents, last = path.split(".")
    node = data
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return data


@pytest.mark.parametrize(
    ("path", "value", "words"),
    [
        ("eps", None, ["'eps' must be a number, got None"]),
        ("eps", -0.1, ["eps must be positive"]),
        ("created", 5, ["'created' must be text, got 5"]),
        ("suite", "standard", ["'suite' must be a table, got 'standard'"]),
        ("stages.0.attack", 1, ["'stages[0].attack' must be text, got 1"]),
        ("stages.1.robust_acc", "0.5", ["'stages[1].robust_acc' must be a number"]),
        ("stages.0.cost", [1, 2], ["is not a valid entry"]),
        ("flags", {"code": "x"}, ["is not a valid entry"]),
        ("problems", "x", ["is not a valid entry"]),
        ("n", "200", ["'n' must be an integer >= 0"]),
        ("n", 10**9, ["'clean_acc'"]),  # paired with clean_acc below
        ("robust_acc", 1.5, ["'robust_acc' must be a fraction in [0, 1]"]),
        ("verdict", ["reliable"], ["'verdict' must be text"]),
        ("card.id", 3, ["'card.id' must be text"]),
        ("model_card", [1, 2], ["is not a valid entry"]),
        ("name", None, ["its name None is not a name"]),
    ],
)
def test_malformed_entries_are_one_line_and_write_nothing(
    entry_data, put_entry, boards, cli, check_error, tree, path, value, words
):
    if path == "n":
        entry_data["clean_acc"] = "x" * 3  # once multiplied by n before any check
    put_entry(_set(entry_data, path, value), file="pgd")
    before = tree(boards["leaderboards"])
    check_error(cli("leaderboard"), "pgd.json", *words)
    check_error(cli("report"), "pgd.json", *words)
    assert tree(boards["leaderboards"]) == before and not boards["reports"].exists()


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        (b"[1, 2]", ["must hold a JSON object"]),
        (b'{"name": "pgd", "name": "x"}', ["the key 'name' appears twice"]),
        (b"\xff{}", ["is not UTF-8 text"]),
        (b"[" * 100_000 + b"]" * 100_000, ["more than 32 deep"]),
        (b" " * (ENTRY_BYTES + 1), [f"larger than {ENTRY_BYTES:,} bytes"]),
    ],
)
def test_entry_files_are_read_within_bounds(put_entry, boards, cli, check_error, raw, words):
    path = put_entry({"name": "pgd"})
    path.write_bytes(raw)
    check_error(cli("leaderboard"), "pgd.json", *words)


def test_a_legitimate_entry_still_renders(entry_data, put_entry, boards, cli):
    put_entry(entry_data)
    code, out, err = cli("leaderboard")
    assert code == 0, err
    board = (boards["leaderboards"] / "digits" / "linf.md").read_text()
    row = next(line for line in board.splitlines() if line.startswith("| 1 |"))
    assert "| pgd |" in row and f"| {100 * entry_data['robust_acc']:.1f} |" in row


def test_entries_written_by_robench_read_back(entry_data, tmp_path):
    from robench.leaderboard.entries import Entry, read_entry, write_entry

    entry = Entry.from_dict(entry_data)
    path = write_entry(entry, tmp_path)
    assert read_entry(path).to_dict() == entry.to_dict()
    assert json.loads(path.read_text())["name"] == "pgd"
