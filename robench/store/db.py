"""The SQLite file behind the results store: location, versioned schema, WAL, all-or-nothing transactions."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from robench.errors import RobenchError

SCHEMA_VERSION = 1

# Each entry upgrades the schema from version i to i + 1 (index 0 creates version 1).
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE runs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        key TEXT NOT NULL,
        checkpoint_sha256 TEXT,
        dataset TEXT NOT NULL,
        threat TEXT NOT NULL,
        eps REAL NOT NULL,
        suite_name TEXT NOT NULL,
        suite_version TEXT NOT NULL,
        subset_sha256 TEXT NOT NULL,
        seed INTEGER NOT NULL,
        mode TEXT NOT NULL,
        model TEXT NOT NULL,
        n INTEGER NOT NULL,
        clean_acc REAL NOT NULL,
        robust_acc REAL NOT NULL,
        verdict TEXT NOT NULL,
        created TEXT NOT NULL,
        record TEXT NOT NULL
    );
    CREATE INDEX runs_by_key ON runs (key, id);
    CREATE TABLE stages (
        run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        attack TEXT NOT NULL,
        robust_acc REAL NOT NULL,
        attacked INTEGER NOT NULL,
        broken INTEGER NOT NULL,
        rejected INTEGER NOT NULL,
        forward INTEGER NOT NULL,
        backward INTEGER NOT NULL,
        seconds REAL NOT NULL,
        PRIMARY KEY (run_id, position)
    ) WITHOUT ROWID;
    CREATE TABLE samples (
        run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        sample_index INTEGER NOT NULL,
        label INTEGER NOT NULL,
        clean_correct INTEGER NOT NULL,
        robust INTEGER NOT NULL,
        broken_by TEXT,
        PRIMARY KEY (run_id, position)
    ) WITHOUT ROWID;
    CREATE TABLE states (
        key TEXT PRIMARY KEY,
        state TEXT NOT NULL,
        updated TEXT NOT NULL
    );
    """,
)


def default_store_path() -> Path:
    """``$ROBENCH_STORE`` if set, else ``$XDG_DATA_HOME/robench/results.sqlite`` (~/.local/share/...)."""
    if os.environ.get("ROBENCH_STORE"):
        return Path(os.environ["ROBENCH_STORE"]).expanduser()
    data_home = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(data_home) / "robench" / "results.sqlite"


def connect(path: str | Path) -> sqlite3.Connection:
    """Open (creating if needed) and upgrade the store; autocommit, transactions via :func:`transaction`."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, timeout=60.0, isolation_level=None)
        conn.execute("PRAGMA journal_mode = WAL")
    except (OSError, sqlite3.DatabaseError) as exc:
        raise RobenchError(f"cannot open the results store {path}: {exc}") from None
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA synchronous = NORMAL")
    _upgrade(conn, path)
    return conn


def _upgrade(conn: sqlite3.Connection, path: Path) -> None:
    with transaction(conn):
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise RobenchError(
                f"the results store {path} has schema version {version}, newer than this robench "
                f"understands ({SCHEMA_VERSION}); upgrade robench or use another --store"
            )
        for step in MIGRATIONS[version:]:
            for statement in step.split(";"):
                if statement.strip():
                    conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """BEGIN IMMEDIATE ... COMMIT; any exception (or a killed process) leaves the store as it was."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
