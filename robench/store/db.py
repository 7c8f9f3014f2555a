"""The SQLite file behind the results store: location, versioned schema, WAL, all-or-nothing transactions.

An existing file is checked, by reading only, before anything writes to it: a file that is not SQLite, a
damaged database (``PRAGMA quick_check``) or another program's database (tables or columns other than
the store's schema of its version) is a one-sentence error, and the file is left as it was.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path

from robench.errors import RobenchError
from robench.store.migrate import add_suite_digests, rekey_custom

SCHEMA_VERSION = 3

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
    """
    ALTER TABLE runs ADD COLUMN suite_digest TEXT NOT NULL DEFAULT '';
    """,
    "",  # 3: the same tables; custom suites' runs keyed by a version of None (DATA_MIGRATIONS)
)
#: what runs after a version's SQL (the new version -> a function of the connection): 2 keys every
#: stored run by its suite's content, 3 rekeys the runs of custom suites (robench.store.migrate)
DATA_MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {2: add_suite_digests, 3: rekey_custom}


def default_store_path() -> Path:
    """``$ROBENCH_STORE`` if set, else ``$XDG_DATA_HOME/robench/results.sqlite`` (~/.local/share/...)."""
    if os.environ.get("ROBENCH_STORE"):
        return Path(os.environ["ROBENCH_STORE"]).expanduser()
    data_home = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(data_home) / "robench" / "results.sqlite"


def connect(path: str | Path) -> sqlite3.Connection:
    """Open (creating if needed) and upgrade the store; autocommit, transactions via :func:`transaction`.
    What the file holds is checked before anything is written to it (``check_file``)."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, timeout=60.0, isolation_level=None)
    except (OSError, sqlite3.DatabaseError) as exc:
        raise RobenchError(f"cannot open the results store {path}: {exc}") from None
    try:
        check_file(conn, path)
        conn.execute("PRAGMA journal_mode = WAL")
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise RobenchError(f"cannot open the results store {path}: {exc}") from None
    except RobenchError:
        conn.close()  # the last connection to close removes SQLite's -wal/-shm files: nothing is left
        raise
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA synchronous = NORMAL")
    _upgrade(conn, path)
    return conn


def check_file(conn: sqlite3.Connection, path: Path) -> None:
    """A results store that exists must be SQLite, intact (``PRAGMA quick_check``) and robench's (the
    tables and columns of the store's schema at its version): checked by reading only, so a refused file
    is left as it was."""
    try:
        damage = [row[0] for row in conn.execute("PRAGMA quick_check") if row[0] != "ok"]
    except sqlite3.DatabaseError as exc:
        if getattr(exc, "sqlite_errorname", "") != "SQLITE_CORRUPT":
            raise
        damage = [str(exc)]
    if damage:
        detail = " ".join(damage[0].replace("*** in database main ***", "").split())
        raise RobenchError(
            f"the results store {path} is damaged (SQLite: {detail}); restore it from a backup or use "
            "another --store"
        )
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise _newer(path, version)
    found = _schema(conn)
    if found and found != expected_schema(version):
        raise RobenchError(
            f"{path} is not a robench results store (another program's SQLite database, with tables "
            f"{', '.join(sorted(found))}); use another --store"
        )


def _newer(path: Path, version: int) -> RobenchError:
    return RobenchError(
        f"the results store {path} has schema version {version}, newer than this robench understands "
        f"({SCHEMA_VERSION}); upgrade robench or use another --store"
    )


def _schema(conn: sqlite3.Connection) -> dict[str, list[str]]:
    """Every table (but SQLite's own) with its columns, in order."""
    names = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    return {
        name: [column[1] for column in conn.execute(f'PRAGMA table_info("{name}")')]
        for (name,) in names.fetchall()
    }


def expected_schema(version: int) -> dict[str, list[str]]:
    """The tables and columns of the store's schema at ``version`` (0: none), built in memory."""
    with closing(sqlite3.connect(":memory:")) as conn:
        for step in MIGRATIONS[:version]:
            conn.executescript(step)
        return _schema(conn)


def _upgrade(conn: sqlite3.Connection, path: Path) -> None:
    with transaction(conn):
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise _newer(path, version)
        for done, step in enumerate(MIGRATIONS[version:], start=version + 1):
            for statement in step.split(";"):
                if statement.strip():
                    conn.execute(statement)
            if done in DATA_MIGRATIONS:
                DATA_MIGRATIONS[done](conn)
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
