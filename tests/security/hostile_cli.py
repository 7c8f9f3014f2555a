"""Shared by tests/security/test_store_*.py, test_api_inputs.py, test_caller_model.py, test_cli_outputs.py:
run the CLI in-process and check that a refusal is one line, exit 2, and that nothing changed on disk.

- ``run_cli(capsys, *args)``: ``robench.cli.main`` -> (exit code, stdout, stderr).
- ``assert_one_line_error(code, err, match)``: exit 2, no traceback, every stderr line robench's own
  (``robench: ...`` or the ``model: ...`` echo), the last one ``robench: error: <one sentence>``
  matching ``match``.
- ``snapshot(folder)``: every file under ``folder`` with its sha256 (symlinks as their target), to
  compare before and after a refused command.
- ``sandbox(tmp_path, monkeypatch)``: cwd ``tmp_path/work``; store, leaderboards, reports and data home
  under ``tmp_path`` (nothing a test writes can land outside it).
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from robench.cli import main


def run_cli(capsys, *args) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_one_line_error(code: int, err: str, match: str) -> str:
    lines = err.strip().splitlines()
    assert code == 2, err
    assert "Traceback" not in err, err
    assert lines and all(line.startswith(("robench: ", "model: ")) for line in lines), err
    error = lines[-1]
    assert error.startswith("robench: error: ") and [x for x in lines if "error:" in x] == [error], err
    assert re.search(match, error), error
    return error


def snapshot(folder: Path) -> dict[str, str]:
    out = {}
    for path in sorted(Path(folder).rglob("*")):
        name = str(path.relative_to(folder))
        if path.is_symlink():
            out[name] = f"-> {path.readlink()}"
        elif path.is_file():
            out[name] = hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            out[name] = "dir"
    return out


def sandbox(tmp_path: Path, monkeypatch) -> Path:
    """A working folder ``tmp_path/work``; every default output of robench points under ``tmp_path``."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("ROBENCH_STORE", str(tmp_path / "store" / "results.sqlite"))
    monkeypatch.setenv("ROBENCH_LEADERBOARDS", str(tmp_path / "leaderboards"))
    monkeypatch.setenv("ROBENCH_REPORTS", str(tmp_path / "reports"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data-home"))
    return work
