"""Data migrations of the results store (``robench.store.db.DATA_MIGRATIONS``), run inside the upgrade's
transaction: a failure leaves the store as it was."""

from __future__ import annotations

import json
import sqlite3

from robench.attacks.suites import legacy_suite
from robench.core.record import EvaluationResult
from robench.engine.identity import EvaluationKey


def add_suite_digests(conn: sqlite3.Connection) -> None:
    """Schema 1 -> 2: every run keyed by its suite's content digest. A run whose suite name, version and
    attacks are a built-in suite's gets that suite's digest and definition (``legacy_suite``); any other
    run gets the digest "unknown" and is never reused. Resume states of the old keys can match no new key
    and are dropped."""
    for run_id, text in conn.execute("SELECT id, record FROM runs").fetchall():
        result = EvaluationResult.from_dict(json.loads(text))
        result.suite = legacy_suite(result.suite, randomized=result.eot_samples > 1)
        key = EvaluationKey.of(result)
        conn.execute(
            "UPDATE runs SET key = ?, suite_digest = ?, record = ? WHERE id = ?",
            (key.digest(), key.suite_digest, result.to_json(samples=False), run_id),
        )
    conn.execute("DELETE FROM states")
