"""Names are names, paths stay inside: the one rule for the names that become file names (entries, model
cards, training runs) and the one check that a path robench writes, deletes or follows lies in its folder.

A name is 1 to ``NAME_CHARACTERS`` letters, digits and ``. _ + -``, starting with a letter or digit
(the whole string: no separator, no control character, no trailing newline). A path read from a file
(a card's checkpoint or training log) is relative, has no ``..`` and, symlinks resolved, lies under the
file's folder; a path the user types on the command line is theirs and is not checked.
"""

from __future__ import annotations

import os
import re
from pathlib import Path, PurePosixPath, PureWindowsPath

from robench.core.limits import NAME_CHARACTERS
from robench.errors import RobenchError

NAME_RULE = f"1 to {NAME_CHARACTERS} letters, digits and . _ + -, starting with a letter or digit"
_NAME = re.compile(rf"[A-Za-z0-9][A-Za-z0-9_.+-]{{0,{NAME_CHARACTERS - 1}}}")


def is_name(value: object) -> bool:
    return isinstance(value, str) and _NAME.fullmatch(value) is not None


def check_name(value: object, what: str) -> str:
    """``value`` if it is a name (module docstring), else one RobenchError naming ``what`` (e.g. "entry
    name")."""
    if not is_name(value):
        raise RobenchError(f"{what} {value!r} is not a name: use {NAME_RULE}")
    return value


def relative_file(value: object, folder: Path, what: str) -> Path:
    """``folder / value`` for a path a file gives relative to its own folder (``check_relative``) that,
    symlinks resolved, stays under ``folder``; else one RobenchError naming ``what``."""
    return inside(folder, folder / check_relative(value, what), what)


def check_relative(value: object, what: str) -> str:
    """``value`` if it is a relative path without ``..`` (on POSIX and Windows alike), else one
    RobenchError naming ``what``."""
    if not isinstance(value, str) or not value.strip():
        raise RobenchError(f"{what} must be a file name, got {value!r}")
    parts = [PurePosixPath(value), PureWindowsPath(value)]
    if any(p.is_absolute() or p.drive or p.root or ".." in p.parts for p in parts):
        raise RobenchError(
            f"{what} {value!r} must be a path inside its folder (no absolute path, no '..'); "
            "give a file elsewhere on the command line instead"
        )
    return value


def inside(folder: str | os.PathLike, path: str | os.PathLike, what: str) -> Path:
    """``path`` if, symlinks resolved, it lies under ``folder``; else one RobenchError naming ``what``."""
    try:
        base, resolved = Path(folder).resolve(), Path(path).resolve()
    except (OSError, RuntimeError):  # Python 3.11 raises RuntimeError on a symlink loop
        raise RobenchError(f"{what} {path} cannot be resolved (a symlink loop?)") from None
    if resolved != base and base not in resolved.parents:
        raise RobenchError(f"{what} {path} leads outside {base} (to {resolved}); robench stays in its folder")
    return Path(path)
