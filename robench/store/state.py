"""Resume state kept in the results store, keyed like the result it will become (the engine's
``EvaluationState`` protocol: ``load() -> dict | None``, ``save(dict)``, ``clear()``)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from robench.core.identity import EvaluationKey
from robench.store.db import transaction
from robench.store.results import ResultsStore


class SqliteState:
    """Per-batch progress of one evaluation; each ``save`` replaces the previous one atomically."""

    def __init__(self, store: ResultsStore, key: EvaluationKey) -> None:
        self.store = store
        self.key = key.digest()

    def load(self) -> dict[str, Any] | None:
        row = self.store.conn.execute("SELECT state FROM states WHERE key = ?", (self.key,)).fetchone()
        return None if row is None else json.loads(row[0])

    def save(self, state: dict[str, Any]) -> None:
        text = json.dumps(state)
        now = datetime.now(UTC).isoformat(timespec="seconds")
        with transaction(self.store.conn) as conn:
            conn.execute(
                "INSERT OR REPLACE INTO states (key, state, updated) VALUES (?, ?, ?)", (self.key, text, now)
            )

    def clear(self) -> None:
        with transaction(self.store.conn) as conn:
            conn.execute("DELETE FROM states WHERE key = ?", (self.key,))
