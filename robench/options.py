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
