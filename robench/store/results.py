"""The results store: every evaluation run with its record, per-stage costs and per-sample outcomes.

Runs are only ever added (``--force`` adds a newer run, it never overwrites); a lookup by key returns the
newest run. The key (``robench.core.identity.EvaluationKey``) includes the suite's content digest, so a
run is reused only by an evaluation of the same suite content; a run whose suite digest is not known
(migrated from a store without digests, see ``robench.store.migrate``) is never reused. Each run is
written in one transaction together with clearing its resume state.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import asdict, dataclass
from pathlib import Path

from robench.core.identity import EvaluationKey
from robench.core.record import EvaluationResult, SampleResult
from robench.store.db import SCHEMA_VERSION, connect, default_store_path, expected_schema, transaction


@dataclass(frozen=True)
class StoredRun:
    """One row of ``runs``: enough to list runs without loading per-sample data."""

    id: int
    key: str
    model: str
    dataset: str
    threat: str
    eps: float
    suite: str
    n: int
    clean_acc: float
    robust_acc: float
    verdict: str
    created: str


class ResultsStore:
    """``ResultsStore(path=None)``: ``None`` means :func:`default_store_path`."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else default_store_path()
        self._conn: sqlite3.Connection | None = None

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            self._conn = connect(self.path)
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> ResultsStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def put(self, result: EvaluationResult) -> int:
        """Store one run (record, stages, samples) and clear its resume state, all in one transaction."""
        key = result.key
        row = {"key": key.digest(), **run_key_columns(key), "model": result.model, "n": result.n}
        row |= {"clean_acc": result.clean_acc, "robust_acc": result.robust_acc, "verdict": result.verdict}
        row |= {"created": result.created, "record": result.to_json(samples=False)}
        with transaction(self.conn) as conn:
            cursor = conn.execute(
                f"INSERT INTO runs ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                tuple(row.values()),
            )
            run_id = int(cursor.lastrowid)
            conn.executemany(
                "INSERT INTO stages VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", _stage_rows(run_id, result)
            )
            conn.executemany(
                "INSERT INTO samples VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    (run_id, i, s.index, s.label, int(s.clean_correct), int(s.robust), s.broken_by)
                    for i, s in enumerate(result.samples)
                ),
            )
            conn.execute("DELETE FROM states WHERE key = ?", (row["key"],))
        return run_id

    def lookup(self, key: EvaluationKey, *, require_verdict: bool = False) -> EvaluationResult | None:
        """The newest stored result for this key (None if none, or if the key is not reusable: no
        checkpoint hash or no known suite digest).

        ``require_verdict`` skips runs made without diagnostics (verdict "unchecked").
        """
        if not key.reusable:
            return None
        query = "SELECT id FROM runs WHERE key = ? AND suite_digest = ?"
        if require_verdict:
            query += " AND verdict != 'unchecked'"
        row = self.conn.execute(
            query + " ORDER BY id DESC LIMIT 1", (key.digest(), key.suite_digest)
        ).fetchone()
        return None if row is None else self.get(row[0])

    def get(self, run_id: int) -> EvaluationResult:
        """The full record of a stored run, per-sample outcomes included."""
        conn = self.conn
        row = conn.execute("SELECT record FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            raise KeyError(run_id)
        data = json.loads(row[0])
        rows = conn.execute(
            "SELECT sample_index, label, clean_correct, robust, broken_by FROM samples"
            " WHERE run_id = ? ORDER BY position",
            (run_id,),
        )
        data["samples"] = []
        result = EvaluationResult.from_dict(data)
        result.samples = [
            SampleResult(index=i, label=y, clean_correct=bool(c), robust=bool(r), broken_by=b)
            for i, y, c, r, b in rows
        ]
        return result

    def runs(self, *, dataset: str | None = None, model: str | None = None) -> list[StoredRun]:
        """All stored runs, oldest first, optionally for one dataset and/or model name."""
        query = (
            "SELECT id, key, model, dataset, threat, eps, suite_name || '@' || suite_version, n,"
            " clean_acc, robust_acc, verdict, created FROM runs WHERE 1 = 1"
        )
        params: list[str] = []
        if dataset is not None:
            query += " AND dataset = ?"
            params.append(dataset)
        if model is not None:
            query += " AND model = ?"
            params.append(model)
        return [StoredRun(*row) for row in self.conn.execute(query + " ORDER BY id", params)]

    def stage_costs(self, run_id: int) -> list[dict[str, float | int | str]]:
        """Per-stage rows of a run (attack, accuracy, counts, passes, seconds), in suite order."""
        cursor = self.conn.execute(
            "SELECT attack, robust_acc, attacked, broken, rejected, forward, backward, seconds FROM stages"
            " WHERE run_id = ? ORDER BY position",
            (run_id,),
        )
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor]

    def integrity_problems(self) -> list[str]:
        """Consistency check: SQLite's own, plus every run has exactly n samples. Empty when all is well."""
        conn = self.conn
        problems = [r[0] for r in conn.execute("PRAGMA integrity_check") if r[0] != "ok"]
        problems += [
            f"run {run_id} has {count} samples, expected {n}"
            for run_id, n, count in conn.execute(
                "SELECT r.id, r.n, (SELECT COUNT(*) FROM samples s WHERE s.run_id = r.id) FROM runs r"
            )
            if count != n
        ]
        return problems


def run_key_columns(key: EvaluationKey) -> dict[str, object]:
    """The key's fields that ``runs`` keeps as columns (to list and filter runs), taken from the key itself:
    the key's fields are listed once, in ``EvaluationKey``. A custom suite's version (None) is ""."""
    columns = {name: value for name, value in asdict(key).items() if name in _RUN_COLUMNS}
    return columns | {"suite_version": key.suite_version or ""}


_RUN_COLUMNS = frozenset(expected_schema(SCHEMA_VERSION)["runs"])


def _stage_rows(run_id: int, result: EvaluationResult) -> list[tuple]:
    """One row per stage of the suite, then one for the diagnostics (their cost and final accuracy)."""
    rows = [
        (run_id, i, s.attack, s.robust_acc, s.attacked, s.broken, s.rejected)
        + (s.cost.forward, s.cost.backward, s.cost.seconds)
        for i, s in enumerate(result.stages)
    ]
    if result.diagnostics is not None:
        cost = result.diagnostics.cost
        attacked = sum(s.clean_correct for s in result.samples)
        rows.append(
            (run_id, len(rows), "diagnostics", result.robust_acc, attacked, len(result.diagnostics.broken), 0)
            + (cost.forward, cost.backward, cost.seconds)
        )
    return rows
