"""Resumable evaluations: per-sample progress persisted after every batch (docs/design.md).

An ``EvaluationState`` has ``load() -> dict | None``, ``save(state)`` and ``clear()``. The engine saves a
JSON-serialisable dict after every batch and clears it when the evaluation is complete. ``FileState``
writes atomically (temporary file + rename), so a kill at any moment leaves either the old or the new state.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class EvaluationState(Protocol):
    def load(self) -> dict[str, Any] | None: ...

    def save(self, state: dict[str, Any]) -> None: ...

    def clear(self) -> None: ...


class FileState:
    """State in one JSON file, replaced atomically on every save."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def load(self) -> dict[str, Any] | None:
        if not self.path.exists():
            return None
        try:
            return json.loads(self.path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError):
            return None  # unreadable state: start again rather than trust it

    def save(self, state: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=self.path.name + ".", suffix=".tmp", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w") as handle:
                json.dump(state, handle)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)

    def __repr__(self) -> str:
        return f"FileState({str(self.path)!r})"


class MemoryState:
    """State kept in memory (tests, and callers that handle persistence themselves)."""

    def __init__(self) -> None:
        self.data: dict[str, Any] | None = None
        self.saves = 0

    def load(self) -> dict[str, Any] | None:
        return json.loads(json.dumps(self.data)) if self.data is not None else None

    def save(self, state: dict[str, Any]) -> None:
        self.data = json.loads(json.dumps(state))
        self.saves += 1

    def clear(self) -> None:
        self.data = None
