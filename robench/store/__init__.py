"""The results store (SQLite): every evaluation run, its per-stage costs and per-sample outcomes, and the
resume state of evaluations in progress. Location: ``--store`` / ``$ROBENCH_STORE``, else
``~/.local/share/robench/results.sqlite``."""

from robench.store.db import SCHEMA_VERSION, default_store_path
from robench.store.results import ResultsStore, StoredRun
from robench.store.state import SqliteState

__all__ = ["SCHEMA_VERSION", "ResultsStore", "SqliteState", "StoredRun", "default_store_path"]
