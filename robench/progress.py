"""Progress for long work, on stderr: rich bars on a terminal; without one (a CI log, a file, a notebook)
one line per finished stage, or per finished item of a bar made with ``each=True`` (a model of the demo,
a diagnostic check), with the elapsed time, so a log shows the work moving.

``ROBENCH_PROGRESS`` overrides the choice: ``1`` (or ``bars``) forces the bars, ``lines`` the lines,
``0`` (or ``off``) silences both.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

MODES = ("bars", "lines", "off")
_FORCED = {"1": "bars", "bars": "bars", "lines": "lines", "0": "off", "off": "off"}


def progress_mode() -> str:
    """How progress is shown: "bars" on a terminal, else "lines" (unless ROBENCH_PROGRESS says)."""
    forced = _FORCED.get(os.environ.get("ROBENCH_PROGRESS", "").strip().lower())
    if forced is not None:
        return forced
    return "bars" if sys.stderr.isatty() else "lines"


def progress_enabled() -> bool:
    """Whether rich bars are drawn."""
    return progress_mode() == "bars"


class _Bar:
    def __init__(self, progress, task: int | None) -> None:
        self._progress, self._task = progress, task

    def advance(self, amount: float = 1) -> None:
        if self._progress is not None:
            self._progress.advance(self._task, amount)

    def describe(self, text: str) -> None:
        if self._progress is not None:
            self._progress.update(self._task, description=text)

    def finished(self, text: str) -> None:
        """A unit of the work finished (an epoch): the bar shows ``text``."""
        self.describe(text)


class _Lines:
    """The log form of a bar: ``robench: <description>: <done>/<total> in <seconds> s`` on stderr, once at
    the end, or after every item (``each``)."""

    def __init__(self, description: str, total: float | None, each: bool) -> None:
        self.description, self.total, self.each = description, total, each
        self.completed: float = 0
        self.started = time.perf_counter()

    def advance(self, amount: float = 1) -> None:
        self.completed += amount
        if self.each and amount:
            self.line()

    def describe(self, text: str) -> None:
        self.description = text

    def finished(self, text: str) -> None:
        """A unit of the work finished (an epoch): its own line."""
        seconds = time.perf_counter() - self.started
        print(f"robench: {text} ({seconds:.1f} s)", file=sys.stderr, flush=True)

    def line(self) -> None:
        count = f"{self.completed:g}" + (f"/{self.total:g}" if self.total is not None else "")
        seconds = time.perf_counter() - self.started
        print(f"robench: {self.description}: {count} in {seconds:.1f} s", file=sys.stderr, flush=True)


@contextmanager
def progress_bar(description: str, total: float | None, *, each: bool = False) -> Iterator[_Bar | _Lines]:
    """``with progress_bar("pgd-20", total=n) as bar: bar.advance(k)``; ``bar.describe(text)`` renames it.
    ``each``: in the log form, a line after every ``advance`` (each item is a unit of work worth a line)
    instead of one at the end."""
    mode = progress_mode()
    if mode == "lines":
        lines = _Lines(description, total, each)
        yield lines
        if not each:
            lines.line()
        return
    if mode == "off":
        yield _Bar(None, None)
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=False) as progress:
        yield _Bar(progress, progress.add_task(description, total=total))
