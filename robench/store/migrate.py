"""Data migrations of the results store (``robench.store.db.DATA_MIGRATIONS``), run inside the upgrade's
transaction: a failure leaves the store as it was."""

from __future__ import annotations

import json
import sqlite3

from robench.attacks.suites import legacy_suite
from robench.core.record import EvaluationResult


def add_suite_digests(conn: sqlite3.Connection) -> None:
    """Schema 1 -> 2: every run keyed by its suite's content digest. A run whose suite name, version and
    attacks are a built-in suite's gets that suite's digest and definition (``legacy_suite``); any other
    run gets the digest "unknown" and is never reused. Resume states of the old keys can match no new key
    and are dropped."""
    for run_id, text in conn.execute("SELECT id, record FROM runs").fetchall():
        result = EvaluationResult.from_dict(json.loads(text))
        result.set_suite(legacy_suite(result.suite, randomized=result.eot_samples > 1))
        key = result.key
        conn.execute(
            "UPDATE runs SET key = ?, suite_digest = ?, record = ? WHERE id = ?",
            (key.digest(), key.suite_digest, result.to_json(samples=False), run_id),
        )
    conn.execute("DELETE FROM states")


def rekey_custom(conn: sqlite3.Connection) -> None:
    """Schema 2 -> 3: a custom suite (a list of attacks) has no version, None in its record; its runs were
    keyed by the text "None". They are keyed again from their records, as a new run would be."""
    rows = conn.execute("SELECT id, record FROM runs WHERE suite_version = 'None'").fetchall()
    for run_id, text in rows:
        key = EvaluationResult.from_dict(json.loads(text)).key
        if key.suite_version is None:
            conn.execute(
                "UPDATE runs SET key = ?, suite_version = ? WHERE id = ?",
                (key.digest(), "", run_id),  # as robench.store.results.run_key_columns writes it
            )
