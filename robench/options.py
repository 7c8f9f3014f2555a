"""Settings fields that carry their own command-line option: one home for each option's meaning.

A settings dataclass declares each field with ``field(default=..., metadata=option("help text"))``; the
CLI builds its options from those fields (name, default, help, parsing), and the docs' option tables
are generated from them too, so a flag's default and meaning are written once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def option(
    help: str,
    *,
    option: str | None = None,
    short: str | None = None,
    parse: Callable[[str], Any] | None = None,
    cli: bool = True,
) -> dict[str, Any]:
    """Metadata for a settings field: its help text; ``option`` overrides ``--field-name``; ``short`` adds a
    one-letter alias; ``parse`` turns the typed text into the field's value (the option then takes
    text); ``cli=False`` keeps the field out of the command line (Python API only)."""
    return {"help": help, "option": option, "short": short, "parse": parse, "cli": cli}


def keyword(field: Any) -> str:
    """The name a settings field goes by in the CLI (``--name``) and as a Python keyword (``name``)."""
    flag = (field.metadata or {}).get("option")
    return flag.lstrip("-").replace("-", "_") if flag else field.name


def flag(field: Any) -> str:
    """The field's command-line option, e.g. ``--data-root``."""
    return "--" + keyword(field).replace("_", "-")


def floats(text: str) -> tuple[float, ...]:
    """Parse ``"0.5,0.5,0.5"`` for an option (ValueError names what was expected)."""
    try:
        return tuple(float(v) for v in str(text).split(","))
    except ValueError:
        raise ValueError("must be comma-separated numbers such as 0.5,0.5,0.5") from None


def json_object(text: str) -> dict[str, Any]:
    """Parse ``'{"width": 16}'`` for an option (ValueError names what was expected)."""
    import json

    try:
        value = json.loads(text)
    except (json.JSONDecodeError, RecursionError):  # RecursionError: nested thousands deep
        value = None
    if not isinstance(value, dict):
        raise ValueError('must be a JSON object such as {"width": 16}')
    return value


_WORDS = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}


def fits(value: Any, hint: Any) -> bool:
    """Whether a Python-API value fits a settings field's annotation (an int fits a float; a bool is no
    int; a str or path-like fits a Path; a generic such as ``tuple[float, ...]`` checks its container)."""
    import os
    import types
    import typing
    from pathlib import Path

    if hint is Any:
        return True
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return any(fits(value, arg) for arg in typing.get_args(hint))
    if hint is type(None):
        return value is None
    if hint in (int, float) and isinstance(value, bool):
        return False
    if hint is float:
        return isinstance(value, (int, float))
    if hint is Path:
        return isinstance(value, (str, os.PathLike))
    origin = typing.get_origin(hint)
    if isinstance(origin, type):
        return isinstance(value, origin)
    return isinstance(value, hint) if isinstance(hint, type) else True


def expected(hint: Any) -> str:
    """What a field's annotation asks for, in words (``int | None`` -> "an integer")."""
    import types
    import typing

    args = typing.get_args(hint) if typing.get_origin(hint) in (typing.Union, types.UnionType) else (hint,)
    words = [_WORDS.get(a) or f"a {getattr(a, '__name__', a)}" for a in args if a is not type(None)]
    return " or ".join(dict.fromkeys(words))


def shown(value: Any) -> str:
    """A value in an error message: a number or short string as written, anything else by its type."""
    if isinstance(value, (bool, int, float)) or (isinstance(value, str) and len(value) <= 40):
        return f"{value!r} ({type(value).__name__})"
    return f"a value of type {type(value).__name__}"
