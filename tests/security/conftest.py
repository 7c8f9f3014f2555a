"""Hostile-input tests: crafted cards, suites, entries, data, checkpoints and command lines.

Each case runs the real command line (``robench.cli.main``, in process) and asserts what issue 22 asks:
one line on stderr, exit code 2, nothing written outside its folder (a ``victim`` path that must not
appear) and, where a folder's files are at stake, the folder unchanged (``tree``). Fixtures:

- ``cli(*argv)``: run robench; returns (exit code, stdout, stderr).
- ``one_line_error(result, *words)``: the result is exit 2 with one clean ``robench: error:`` line
  holding every word.
- ``tree(folder)``: a snapshot of every file under a folder (path -> bytes), to compare before/after.
- ``models_root``: a models root holding a copy of the tiny digits card and its checkpoint
  (``digits/linf/tiny.toml``), set as ``ROBENCH_MODELS``; ``write_card(**changes)`` rewrites that card.
- ``victim``: a folder outside every robench folder of the test, where nothing may appear.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import tomli_w

from robench.cli import main


@pytest.fixture
def cli(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")  # Rich tables at full width

    def run(*argv: str) -> tuple[int, str, str]:
        code = main([str(a) for a in argv])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


def one_line_error(result: tuple[int, str, str], *words: str) -> str:
    """Assert exit 2 and exactly one clean error line on stderr holding each of ``words``; return it."""
    code, _, err = result
    assert code == 2, err
    assert err.startswith("robench: error: ") and err.endswith("\n") and err.count("\n") == 1, err
    assert "\x1b" not in err and "Traceback" not in err, err
    for word in words:
        assert word in err, (word, err)
    return err


@pytest.fixture
def check_error():
    return one_line_error


def snapshot(folder: Path) -> dict[str, bytes]:
    if not folder.exists():
        return {}
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def tree():
    return snapshot


@pytest.fixture
def victim(tmp_path):
    folder = tmp_path / "outside"
    folder.mkdir()
    yield folder
    assert not any(folder.iterdir()), f"files appeared outside: {list(folder.iterdir())}"


@pytest.fixture
def models_root(tmp_path, tiny_digits_card, monkeypatch):
    root = tmp_path / "models"
    folder = root / "digits" / "linf"
    folder.mkdir(parents=True)
    shutil.copy(tiny_digits_card.path, folder / "tiny.toml")
    shutil.copy(tiny_digits_card.checkpoint_path, folder / tiny_digits_card.checkpoint)
    monkeypatch.setenv("ROBENCH_MODELS", str(root))
    return root


@pytest.fixture
def card_fields(tiny_digits_card):
    """The tiny card's fields, as a TOML table would hold them."""
    return tiny_digits_card.to_dict()


@pytest.fixture
def write_card(models_root, card_fields):
    """Rewrite ``digits/linf/tiny.toml`` with ``changes`` (None deletes a field); returns its path."""

    def write(**changes) -> Path:
        fields = {**card_fields, **changes}
        path = models_root / "digits" / "linf" / "tiny.toml"
        path.write_text(tomli_w.dumps({k: v for k, v in fields.items() if v is not None}))
        return path

    return write


ENTRY = Path(__file__).resolve().parents[2] / "leaderboards" / "digits" / "linf" / "entries" / "pgd.json"


@pytest.fixture
def entry_data():
    """A real leaderboard entry (the committed digits ``pgd``) as a dict, to be altered."""
    import json

    return json.loads(ENTRY.read_text())


@pytest.fixture
def boards(tmp_path, monkeypatch):
    """Empty leaderboards and reports folders (ROBENCH_LEADERBOARDS, ROBENCH_REPORTS) and an empty models
    root, so that reports never find a card to sweep."""
    folders = {name: tmp_path / name for name in ("leaderboards", "reports", "no-models")}
    folders["no-models"].mkdir()
    monkeypatch.setenv("ROBENCH_LEADERBOARDS", str(folders["leaderboards"]))
    monkeypatch.setenv("ROBENCH_REPORTS", str(folders["reports"]))
    monkeypatch.setenv("ROBENCH_MODELS", str(folders["no-models"]))
    return folders


@pytest.fixture
def put_entry(boards):
    """Write an entry dict as ``<leaderboards>/digits/linf/entries/<file>.json``; returns its path."""
    import json

    def put(data: dict, file: str | None = None) -> Path:
        folder = boards["leaderboards"] / "digits" / "linf" / "entries"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{file or data['name']}.json"
        path.write_text(json.dumps(data))
        return path

    return put
