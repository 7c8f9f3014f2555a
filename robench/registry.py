"""One registry type for architectures, datasets, attacks, suites and recipes.

Entries are objects or lazy ``"module:attr"`` placeholders (importing robench imports none of them),
a second registration of a name raises, unknown names get "did you mean" suggestions, and when
``allow_user_code`` is set a ``package.module:attr`` name loads the user's own object.
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

from robench.errors import RobenchError

T = TypeVar("T")


def import_object(target: str) -> Any:
    """Import ``"package.module:attr"`` (attr may be dotted); user errors become RobenchError."""
    module_name, _, attr = target.partition(":")
    if not module_name or not attr:
        raise RobenchError(f"'{target}' is not of the form package.module:name")
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise RobenchError(f"cannot import module '{module_name}' for '{target}': {exc}") from None
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise RobenchError(f"module '{module_name}' has no attribute '{attr}'")
        obj = getattr(obj, part)
    return obj


def names_code(name: str) -> bool:
    """Whether a name refers to importable code (``package.module:attr``) rather than a registered entry."""
    return isinstance(name, str) and ":" in name


def check_trusted(name: str, where: str, trust_code: bool) -> None:
    """Refuse code named by an untrusted file (a card, a suite file, a submission) unless the user opted in.

    Code a user types on the command line (``--arch pkg.mod:fn``) is their explicit choice and is not
    checked here; a file is untrusted input, like a checkpoint (Hugging Face's ``trust_remote_code`` rule).
    """
    if names_code(name) and not trust_code:
        raise RobenchError(
            f"{where} names code to run ('{name}'); robench imports code named by a file only when you "
            "pass --trust-code (trust_code=True in Python)"
        )


class Registry(Generic[T]):
    def __init__(self, kind: str, *, allow_user_code: bool = False) -> None:
        self.kind = kind
        self.allow_user_code = allow_user_code
        self._entries: dict[str, T | str] = {}
        self._aliases: dict[str, str] = {}

    def _claim(self, name: str) -> None:
        if name in self._entries or name in self._aliases:
            raise ValueError(f"{self.kind} '{name}' is already registered")

    def add(self, name: str, obj: T | str, *, aliases: tuple[str, ...] = ()) -> None:
        """Register ``obj`` (or a lazy ``"module:attr"`` string) under ``name``."""
        self._claim(name)
        for alias in aliases:
            self._claim(alias)
        self._entries[name] = obj
        for alias in aliases:
            self._aliases[alias] = name

    def canonical(self, name: str) -> str:
        return self._aliases.get(name, name)

    def __contains__(self, name: str) -> bool:
        return self.canonical(name) in self._entries

    def names(self) -> list[str]:
        return sorted(self._entries)

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def get(self, name: str) -> T:
        key = self.canonical(name)
        if key in self._entries:
            entry = self._entries[key]
            if isinstance(entry, str):
                entry = import_object(entry)
                self._entries[key] = entry
            return entry  # type: ignore[return-value]
        if self.allow_user_code and ":" in name:
            return import_object(name)
        raise RobenchError(self.unknown_message(name))

    def unknown_message(self, name: str) -> str:
        known = self.names() + sorted(self._aliases)
        close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
        hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        return f"unknown {self.kind} '{name}'{hint} (known: {', '.join(self.names())})"


def lazy_attributes(package: str, exports: dict[str, str]) -> Callable[[str], Any]:
    """A package's ``__getattr__`` (PEP 562) that imports each exported name from its module on first use
    (``exports``: name -> module), so importing the package stays cheap: the command line builds its
    options and prints its help without importing torch."""

    def __getattr__(name: str) -> Any:
        if name not in exports:
            raise AttributeError(f"module '{package}' has no attribute '{name}'")
        return getattr(importlib.import_module(exports[name]), name)

    return __getattr__
