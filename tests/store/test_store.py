"""The results store: round trip, keys, history, transactions (exception and SIGKILL), schema version."""

from __future__ import annotations

import dataclasses
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap

import pytest

from robench.errors import RobenchError
from robench.store import ResultsStore, SqliteState


def _counts(path) -> tuple[int, int, int]:
    with sqlite3.connect(path) as conn:
        return tuple(
            conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in ("runs", "stages", "samples")
        )


def test_round_trip_keeps_record_stages_and_samples(store, make_result):
    result = make_result("pgd", 0.9, [0.6, 0.55, 0.5, 0.5, 0.45, 0.45])
    run_id = store.put(result)
    again = store.lookup(result.key)
    assert again is not None and again.to_dict() == result.to_dict()
    stages = [s.attack for s in result.stages] + ["diagnostics"]
    assert [s["attack"] for s in store.stage_costs(run_id)] == stages
    assert store.stage_costs(run_id)[2]["forward"] == result.stages[2].cost.forward
    assert sum(s.robust for s in again.samples) == 9  # 0.45 of 20
    assert store.integrity_problems() == []


@pytest.mark.parametrize(
    "change",
    [
        {"seed": 1},
        {"eps": 0.2},
        {"subset_sha256": "cd" * 32},
        {"checkpoint_sha256": "ef" * 32},
        {"suite_version": "2"},
        {"suite_name": "other"},
        {"suite_digest": "ee" * 32},
        {"mode": "independent"},
        {"split": "train"},
        {"block_size": 64},
        {"data_fingerprint": "ee" * 32},
    ],
)
def test_any_key_field_changed_means_no_reuse(store, make_result, change):
    result = make_result("pgd", 0.9, [0.6, 0.55, 0.5, 0.5, 0.45, 0.45])
    store.put(result)
    other = dataclasses.replace(result, key=dataclasses.replace(result.key, **change))
    assert other.key != result.key
    assert store.lookup(other.key) is None
    assert store.lookup(result.key) is not None


def test_reruns_are_kept_and_the_newest_is_returned(store, make_result):
    first = make_result("pgd", 0.9, [0.6, 0.55, 0.5, 0.5, 0.45, 0.45])
    second = make_result("pgd", 0.9, [0.6, 0.55, 0.5, 0.5, 0.4, 0.4])
    store.put(first)
    store.put(second)
    assert [r.robust_acc for r in store.runs(model="digits/linf/pgd")] == [0.45, 0.4]
    assert store.lookup(first.key).robust_acc == 0.4


def test_unchecked_runs_are_skipped_when_a_verdict_is_required(store, make_result):
    result = make_result("pgd", 0.9, [0.6, 0.55, 0.5, 0.5, 0.45, 0.45], verdict="unchecked")
    store.put(result)
    assert store.lookup(result.key, require_verdict=True) is None
    assert store.lookup(result.key) is not None


def test_results_without_a_checkpoint_hash_are_never_reused(store, make_result):
    result = make_result("pgd", 0.9, [0.5] * 6)
    result.key = dataclasses.replace(result.key, checkpoint_sha256=None)
    store.put(result)
    assert store.lookup(result.key) is None
    assert len(store.runs()) == 1


def test_an_exception_inside_the_write_leaves_nothing_half_written(store, make_result):
    kept = make_result("standard", 1.0, [0.1, 0, 0, 0, 0, 0])
    store.put(kept)
    broken = make_result("pgd", 0.9, [0.6, 0.55, 0.5, 0.5, 0.45, 0.45])
    broken.samples[7] = dataclasses.replace(
        broken.samples[7], label=object()
    )  # cannot be bound: fails mid-write
    with pytest.raises(sqlite3.Error):
        store.put(broken)
    assert _counts(store.path) == (1, 7, 20)  # six stages and the diagnostics
    assert store.lookup(broken.key) is None
    assert store.lookup(kept.key).to_dict() == kept.to_dict()
    assert store.integrity_problems() == []


_KILLED_WRITER = textwrap.dedent(
    """
    import sys, time
    sys.path.insert(0, sys.argv[2])
    from synthetic_records import build_result
    from robench.store import ResultsStore

    class StallingSamples(list):
        def __iter__(self):
            for position, sample in enumerate(list.__iter__(self)):
                if position == len(self) // 2:
                    print("mid-write", flush=True)
                    time.sleep(60)
                yield sample

    store = ResultsStore(sys.argv[1])
    store.put(build_result("standard", 1.0, [0.1, 0, 0, 0, 0, 0]))
    result = build_result("pgd", 0.9, [0.6, 0.55, 0.5, 0.5, 0.45, 0.45], n=400)
    result.samples = StallingSamples(result.samples)
    store.put(result)
    print("finished", flush=True)
    """
)


def test_a_process_killed_mid_write_leaves_the_store_consistent(tmp_path):
    path = tmp_path / "results.sqlite"
    script = tmp_path / "writer.py"
    script.write_text(_KILLED_WRITER)
    here = os.path.join(os.path.dirname(os.path.dirname(__file__)), "leaderboard")
    child = subprocess.Popen(
        [sys.executable, str(script), str(path), here], stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout.readline().strip() == "mid-write"
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    with ResultsStore(path) as store:
        assert store.integrity_problems() == []
        assert [r.model for r in store.runs()] == ["digits/linf/standard"]
        assert len(store.get(store.runs()[0].id).samples) == 20
        assert _counts(path) == (1, 7, 20)  # six stages and the diagnostics


def test_sqlite_state_round_trip_and_cleared_by_put(store, make_result):
    result = make_result("pgd", 0.9, [0.6, 0.55, 0.5, 0.5, 0.45, 0.45])
    state = SqliteState(store, result.key)
    assert state.load() is None
    state.save({"done": [1, 2, 3], "stage": "pgd-7"})
    state.save({"done": [1, 2, 3, 4], "stage": "pgd-20"})
    with ResultsStore(store.path) as other:  # persisted, visible to another connection
        assert SqliteState(other, result.key).load() == {
            "done": [1, 2, 3, 4],
            "stage": "pgd-20",
        }
    store.put(result)  # storing the result clears its resume state in the same transaction
    assert state.load() is None
    state.save({"x": 1})
    state.clear()
    assert state.load() is None


def test_a_newer_schema_or_a_foreign_file_is_a_one_line_error(tmp_path):
    newer = tmp_path / "newer.sqlite"
    with sqlite3.connect(newer) as conn:
        conn.execute("PRAGMA user_version = 99")
    with pytest.raises(RobenchError, match="schema version 99"):
        ResultsStore(newer).runs()
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"this is not a database" * 100)
    with pytest.raises(RobenchError, match="cannot open the results store"):
        ResultsStore(junk).runs()


def test_default_location_follows_the_environment(tmp_path, monkeypatch):
    from robench.store import default_store_path

    monkeypatch.setenv("ROBENCH_STORE", str(tmp_path / "x.sqlite"))
    assert default_store_path() == tmp_path / "x.sqlite"
    monkeypatch.delenv("ROBENCH_STORE")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert default_store_path() == tmp_path / "data" / "robench" / "results.sqlite"
