"""The evaluation's identity is declared once (robench.core.identity) and derived everywhere else: the
record reads its fields through the key, the JSON keeps them flat, the verdict follows from the flags."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import sys
import warnings
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "leaderboard"))
from synthetic_records import build_result  # noqa: E402

from robench.core.identity import RECORD_PLACE, EvaluationKey  # noqa: E402
from robench.core.record import DiagnosticsSummary, EvaluationResult, Flag, verdict_of  # noqa: E402


def test_every_key_field_sits_in_the_records_json_and_reads_back():
    result = build_result("pgd", 0.9, [0.6, 0.55, 0.5, 0.5, 0.45, 0.45])
    result.key = dataclasses.replace(result.key, data_fingerprint="ef" * 32, block_size=64)
    data = result.to_dict()
    for f in dataclasses.fields(EvaluationKey):
        holder, inner = RECORD_PLACE.get(f.name, (None, f.name))
        stated = data[inner] if holder is None else data[holder][inner]
        assert stated == getattr(result.key, f.name) == getattr(result, f.name), f.name
    again = EvaluationResult.from_dict(json.loads(json.dumps(data)))
    assert again.key == result.key and again.key.digest() == result.key.digest()


def test_the_verdict_is_derived_from_the_flags_and_whether_the_diagnostics_ran():
    error, finding = Flag("noise_stronger", "error", "m"), Flag("catastrophic_overfitting", "error", "m")
    finding.finding = "model"
    assert verdict_of([], checked=False) == "unchecked"
    assert verdict_of([], checked=True) == "reliable"
    assert verdict_of([finding], checked=True) == "reliable"  # a model finding leaves the number alone
    assert verdict_of([error], checked=False) == "unreliable"  # e.g. certified_but_broken without checks
    result = build_result("pgd", 0.9, [0.5] * 6)
    assert result.verdict == "reliable"
    result.flags.append(error)
    assert result.verdict == "unreliable"
    result.flags.clear()
    result.diagnostics = None
    assert result.verdict == "unchecked"
    with pytest.raises(AttributeError):
        result.verdict = "reliable"  # no setter: it cannot disagree with the flags


def test_a_record_whose_stated_verdict_disagrees_with_its_flags_is_read_with_a_warning():
    data = build_result("pgd", 0.9, [0.5] * 6).to_dict()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        EvaluationResult.from_dict(data)  # as written: no warning
    with pytest.warns(UserWarning, match="stated verdict 'unreliable' disagrees .* give 'reliable'"):
        assert EvaluationResult.from_dict(data | {"verdict": "unreliable"}).verdict == "reliable"
    with pytest.raises(ValueError, match="'verdict' must be text"):
        EvaluationResult.from_dict(data | {"verdict": ["reliable"]})


def test_a_custom_suite_has_no_version_in_the_record_the_key_and_the_store(tmp_path):
    from robench.engine.identity import suite_description
    from robench.store import ResultsStore

    result = build_result("pgd", 0.9, [0.5] * 6)
    custom = {**suite_description(["fgsm", "pgd-20"]), "attacks": ["fgsm", "pgd-20"]}
    result.set_suite(custom)
    assert result.suite == custom and result.key.suite_version is None
    assert EvaluationResult.from_dict(result.to_dict()).key == result.key
    with ResultsStore(tmp_path / "s.sqlite") as store:
        store.put(result)
        assert store.lookup(result.key).suite["version"] is None
        (version,) = store.conn.execute("SELECT suite_version FROM runs").fetchone()
        assert version == ""


def test_a_store_that_keyed_custom_suites_by_the_text_none_is_rekeyed(tmp_path):
    from robench.engine.identity import suite_description
    from robench.store import ResultsStore

    result = build_result("pgd", 0.9, [0.5] * 6)
    result.set_suite({**suite_description(["fgsm"]), "attacks": ["fgsm"]})
    path = tmp_path / "s.sqlite"
    with ResultsStore(path) as store:
        store.put(result)
    old = dataclasses.asdict(result.key) | {"suite_version": "None", "eps": repr(result.eps)}
    old_digest = (
        __import__("hashlib")
        .sha256(json.dumps(old, sort_keys=True, separators=(",", ":")).encode())
        .hexdigest()
    )
    with sqlite3.connect(path) as conn:  # as robench wrote it before (store schema 2)
        conn.execute("UPDATE runs SET key = ?, suite_version = 'None'", (old_digest,))
        conn.execute("PRAGMA user_version = 2")
    with ResultsStore(path) as store:
        assert store.lookup(result.key) is not None
        assert store.runs()[0].suite == "custom@"


def test_a_record_without_diagnostics_but_with_an_error_flag_is_unreliable():
    result = build_result("pgd", 0.9, [0.5] * 6, verdict="unreliable")
    assert isinstance(result.diagnostics, DiagnosticsSummary)
    result.diagnostics = None
    assert result.verdict == "unreliable"
