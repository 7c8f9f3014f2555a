"""Output paths checked before the work that fills them starts: a record or a trained model is never lost
at the end because its file or folder cannot be written. The check writes nothing that stays (an
anonymous temporary file in the nearest existing folder, gone when closed)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from robench.errors import RobenchError


def check_output_file(path: str | os.PathLike, option: str) -> Path:
    """``path`` can be written as a file: not a folder, its nearest existing folder writable (the folders
    between are created when it is written)."""
    path = Path(path)
    if path.is_dir():
        raise RobenchError(f"{option} {path} is a folder; give a file path, e.g. {path / 'out.json'}")
    if path.exists():
        _probe_open(path, option)
        return path
    _writable_folder(path.parent, path, option)
    return path


def check_output_folder(path: str | os.PathLike, option: str) -> Path:
    """``path`` is, or can be created as, a writable folder."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise RobenchError(f"{option} {path} is a file, not a folder")
    _writable_folder(path, path, option)
    return path


def _writable_folder(folder: Path, target: Path, option: str) -> None:
    existing = next(p for p in (folder, *folder.parents) if p.exists() or p == p.parent)
    if not existing.is_dir():
        raise RobenchError(f"{option} {target} cannot be written: {existing} is a file, not a folder")
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as exc:
        raise RobenchError(f"{option} {target} cannot be written ({exc.strerror or exc})") from None


def _probe_open(path: Path, option: str) -> None:
    """An existing file opened for appending (nothing written, its contents and times unchanged)."""
    try:
        with open(path, "ab"):
            pass
    except OSError as exc:
        raise RobenchError(f"{option} {path} cannot be written ({exc.strerror or exc})") from None
