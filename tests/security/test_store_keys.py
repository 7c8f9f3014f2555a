"""Results keyed by the suite's content: a suite file cannot poison the store under a built-in suite's name,
``submit`` and ``gate`` reuse only a run of the same suite content, an old store is migrated (built-in runs
keep being reused, anything else never is), and boards say which suite produced each number."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import warnings
from dataclasses import asdict, replace

import pytest
from hostile_cli import assert_one_line_error, run_cli, sandbox, snapshot

from robench.attacks.suites import (
    FAST,
    SUITE_SEMANTICS,
    SUITES,
    UNKNOWN_DIGEST,
    Focus,
    content_digest,
    load_suite,
)
from robench.core.cost import Cost
from robench.core.identity import EvaluationKey
from robench.core.record import DataInfo, DiagnosticsSummary, EvaluationResult, SampleResult, StageResult
from robench.errors import RobenchError
from robench.store import ResultsStore
from robench.store.db import MIGRATIONS

STANDARD = SUITES.get("standard")
POISON = 'name: standard\nversion: "3"\nattacks: [fgsm]\n'  # the attack of issue 22


# --- a file cannot claim a built-in suite's name


@pytest.mark.parametrize(
    "text",
    [
        POISON,
        'name: fast\nversion: "3"\nattacks: [fgsm]\n',
        'name: fast\nversion: "3"\n'  # fast's cascade without its focus and escalation rules
        "attacks: [fgsm, pgd-20, apgd-100, apgd-33x2, apgd-t-50x2, apgd-t-25x3]\n",
        'name: QUICK\nversion: "1"\nattacks: [fgsm, pgd-20, cw]\nextra_rounds: 1\n',
        'name: quick\nversion: "2"\nattacks: [fgsm, pgd-20, cw]\n',  # same content, another version
    ],
)
def test_a_file_that_names_a_built_in_suite_must_be_it(tmp_path, text):
    path = tmp_path / "suite.yaml"
    path.write_text(text)
    with pytest.raises(
        RobenchError,
        match=r"is not robench's built-in suite \w+ v\d \(other content or version\); give it a name",
    ):
        load_suite(path)


def test_a_file_with_the_built_in_content_under_its_name_is_that_suite(tmp_path):
    path = tmp_path / "quick.toml"
    path.write_text('name = "quick"\nversion = "1"\nattacks = ["FGSM", "pgd-20", "cw"]\n')
    assert load_suite(path).digest == SUITES.get("quick").digest
    fast = tmp_path / "fast.json.yaml"
    fast.write_text(json.dumps(FAST.to_dict()))  # JSON is YAML
    assert load_suite(fast).digest == FAST.digest


def test_a_python_suite_object_cannot_claim_a_built_in_name(tiny_digits_model, digits_test):
    import robench
    from robench.attacks.suites import Suite

    with pytest.raises(RobenchError, match="built-in suite standard v3"):
        robench.evaluate(
            tiny_digits_model, digits_test, "linf", eps=0.3, n=4, suite=Suite("standard", "3", ("fgsm",))
        )


def test_the_digest_covers_everything_that_changes_what_runs(monkeypatch):
    base = content_digest(
        ["fgsm", "pgd-20"], {"a": ["square-100"], "b": ["pgd-7"]}, 1, Focus(0.1, ("pgd-7",))
    )
    same = content_digest(
        ["FGSM", " pgd-20"], {"b": ["pgd-7"], "a": ["square-100"]}, 1, Focus(0.1, ("pgd-7",))
    )
    assert same == base  # spec spelling and rule order do not change what runs
    changed = [
        content_digest(["pgd-20", "fgsm"], {"a": ["square-100"], "b": ["pgd-7"]}, 1, Focus(0.1, ("pgd-7",))),
        content_digest(
            ["fgsm", "pgd-20x2"], {"a": ["square-100"], "b": ["pgd-7"]}, 1, Focus(0.1, ("pgd-7",))
        ),
        content_digest(["fgsm", "pgd-20"], {"a": ["square-200"], "b": ["pgd-7"]}, 1, Focus(0.1, ("pgd-7",))),
        content_digest(["fgsm", "pgd-20"], {"c": ["square-100"], "b": ["pgd-7"]}, 1, Focus(0.1, ("pgd-7",))),
        content_digest(["fgsm", "pgd-20"], {"a": ["square-100"], "b": ["pgd-7"]}, 2, Focus(0.1, ("pgd-7",))),
        content_digest(["fgsm", "pgd-20"], {"a": ["square-100"], "b": ["pgd-7"]}, 1, Focus(0.2, ("pgd-7",))),
        content_digest(["fgsm", "pgd-20"], {"a": ["square-100"], "b": ["pgd-7"]}, 1, Focus(0.1, ("pgd-20",))),
        content_digest(["fgsm", "pgd-20"], {"a": ["square-100"], "b": ["pgd-7"]}, 1, None),
    ]
    monkeypatch.setattr("robench.attacks.suites.SUITE_SEMANTICS", SUITE_SEMANTICS + 1)
    changed.append(
        content_digest(["fgsm", "pgd-20"], {"a": ["square-100"], "b": ["pgd-7"]}, 1, Focus(0.1, ("pgd-7",)))
    )
    assert len({base, *changed}) == len(changed) + 1


# --- the attack, end to end


def test_gate_refuses_a_file_claiming_standard_and_leaves_the_store_as_it_was(
    tiny_digits_card, tmp_path, monkeypatch, capsys
):
    sandbox(tmp_path, monkeypatch)
    suite = tmp_path / "standard.yaml"
    suite.write_text(POISON)
    store = tmp_path / "S.sqlite"
    ResultsStore(store).close()  # an existing (empty) store
    before = snapshot(tmp_path)
    args = ["gate", "--model", tiny_digits_card.path, "--suite", suite, "--store", store, "-n", "4"]
    code, _, err = run_cli(capsys, *args, "--no-diagnostics", "--min-clean", "0")
    assert_one_line_error(code, err, r"named 'standard' v3 but is not robench's built-in suite standard v3")
    assert snapshot(tmp_path) == before


def _legacy_store(path, key, runs: list[tuple[dict, int, int]], points) -> None:
    """A results store as robench wrote it before suite digests (store schema 1, record schema 2), with one
    run per (suite, clean count, robust count), each under the key that robench computed then."""
    old_key = {k: v for k, v in asdict(key).items() if k != "suite_digest"}
    with sqlite3.connect(path) as conn:
        conn.executescript(MIGRATIONS[0])
        conn.execute("PRAGMA user_version = 1")
        for suite, clean, robust in runs:
            fields = old_key | {
                "suite_name": suite["name"],
                "suite_version": suite["version"],
                "eps": repr(key.eps),
            }
            digest = hashlib.sha256(
                json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()
            ).hexdigest()
            record = _record(key, suite, clean, robust, points)
            data = record.to_dict(samples=False) | {"schema_version": 2, "suite": suite}
            cursor = conn.execute(
                "INSERT INTO runs (key, checkpoint_sha256, dataset, threat, eps, suite_name, suite_version,"
                " subset_sha256, seed, mode, model, n, clean_acc, robust_acc, verdict, created, record)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    digest,
                    key.checkpoint_sha256,
                    key.dataset,
                    key.threat,
                    key.eps,
                    suite["name"],
                    suite["version"],
                    key.subset_sha256,
                    key.seed,
                    key.mode,
                    record.model,
                    record.n,
                    record.clean_acc,
                    record.robust_acc,
                    record.verdict,
                    record.created,
                    json.dumps(data),
                ),
            )
            conn.executemany(
                "INSERT INTO samples VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (cursor.lastrowid, i, s.index, s.label, int(s.clean_correct), int(s.robust), s.broken_by)
                    for i, s in enumerate(record.samples)
                ],
            )
        conn.execute("INSERT INTO states VALUES ('old-key', '{}', '2026-01-01')")


def _record(key, suite: dict, clean: int, robust: int, points, eot_samples: int = 1) -> EvaluationResult:
    indices, labels = points.indices.tolist(), points.labels.tolist()
    samples = [
        SampleResult(
            index=i,
            label=y,
            clean_correct=p < clean,
            robust=p < robust,
            broken_by=suite["attacks"][-1] if robust <= p < clean else None,
        )
        for p, (i, y) in enumerate(zip(indices, labels, strict=True))
    ]
    stages = [
        StageResult(a, robust / len(samples), len(samples), 0, Cost(1, 1, 0.1)) for a in suite["attacks"]
    ]
    labels = {
        "suite_name": suite["name"],
        "suite_version": suite["version"],
        "suite_digest": suite.get("digest"),
    }
    return EvaluationResult(
        model="digits/linf/tiny",
        key=replace(key, **labels),
        suite_content={k: v for k, v in suite.items() if k not in ("name", "version", "digest")},
        stages=stages,
        samples=samples,
        diagnostics=DiagnosticsSummary(),  # checked: the verdict is "reliable"
        eot_samples=eot_samples,
        data_info=DataInfo("digits", "none"),
        created="2026-11-30T10:00:00+00:00",
    )


@pytest.fixture
def submission(tiny_digits_card, tmp_path, monkeypatch):
    """The key and points ``robench submit`` evaluates the tiny card under (digits: 200 points, standard)."""
    from robench.pipeline.keys import evaluation_key
    from robench.pipeline.submit import SubmitSettings, submission_run, validate

    sandbox(tmp_path, monkeypatch)
    target = validate(tiny_digits_card, tiny_digits_card.checkpoint_path)
    run = submission_run(target, SubmitSettings())
    return evaluation_key(target, run), target.points(run)


def test_submit_never_publishes_an_fgsm_only_run_stored_as_standard(
    submission, tiny_digits_card, tmp_path, monkeypatch, capsys
):
    """An old store holds the poisoned run exactly where submit looks (the old key of standard v3): after
    the migration it is never reused, so submit evaluates instead of publishing 35 % as standard's."""
    key, points = submission
    store = tmp_path / "S.sqlite"
    _legacy_store(store, key, [({"name": "standard", "version": "3", "attacks": ["fgsm"]}, 180, 70)], points)

    def evaluation_started(*args, **kwargs):
        raise RobenchError("the evaluation started (no stored result was reused)")

    monkeypatch.setattr("robench.pipeline.evaluate.evaluate_target", evaluation_started)
    lb, reports = tmp_path / "lb", tmp_path / "reports"
    card = tiny_digits_card
    args = ["submit", card.checkpoint_path, "--card", card.path, "--store", store, "--leaderboards", lb]
    code, _, err = run_cli(capsys, *args, "--reports", reports)
    assert_one_line_error(code, err, "the evaluation started")
    assert not lb.exists() and not reports.exists()
    with ResultsStore(store) as opened:
        (run,) = opened.runs()
        assert opened.get(run.id).suite["digest"] == UNKNOWN_DIGEST and opened.lookup(key) is None


def test_submit_reuses_a_genuine_standard_run_of_an_old_store(submission, tiny_digits_card, tmp_path, capsys):
    key, points = submission
    store = tmp_path / "S.sqlite"
    genuine = {"name": "standard", "version": "3", "attacks": list(STANDARD.attacks)}
    _legacy_store(store, key, [(genuine, 180, 50), ({**genuine, "attacks": ["fgsm"]}, 180, 70)], points)
    lb, card = tmp_path / "lb", tiny_digits_card
    args = ["submit", card.checkpoint_path, "--card", card.path, "--store", store, "--leaderboards", lb]
    code, out, err = run_cli(capsys, *args, "--reports", tmp_path / "reports")
    assert code == 0, err
    entry = json.loads((lb / "digits" / "linf" / "entries" / "tiny.json").read_text())
    assert (entry["robust_acc"], entry["suite"]["digest"]) == (0.25, STANDARD.digest)  # 50 of 200
    board = (lb / "digits" / "linf.md").read_text()
    assert f"| standard v3 · {STANDARD.digest[:8]} |" in board


# --- an old store is migrated


def test_an_old_store_is_migrated_built_in_runs_keep_their_key_anything_else_is_never_reused(
    tiny_digits_card, tmp_path
):
    from robench.data import load_dataset

    points = load_dataset("digits", "test").subset(20, 0)
    key = EvaluationKey(
        checkpoint_sha256=tiny_digits_card.sha256,
        dataset="digits",
        threat="linf",
        eps=0.3,
        suite_name="standard",
        suite_version="3",
        subset_sha256=points.subset_sha256(),
        seed=0,
        data_fingerprint=points.fingerprint(),
        suite_digest=STANDARD.digest,
    )
    rand = [*STANDARD.attacks[:-1], "autoattack-rand"]
    runs = [
        ({"name": "standard", "version": "3", "attacks": list(STANDARD.attacks)}, 18, 9),
        ({"name": "standard", "version": "3", "attacks": ["fgsm"]}, 18, 12),  # the poisoned run
        ({"name": "standard", "version": "2", "attacks": list(STANDARD.attacks)}, 18, 8),  # an older version
        ({"name": "mine", "version": "1", "attacks": ["fgsm"]}, 18, 14),
        ({"name": "standard", "version": "3", "attacks": rand}, 18, 10),  # rand without EOT: not standard's
    ]
    path = tmp_path / "old.sqlite"
    _legacy_store(path, key, runs, points)
    with ResultsStore(path) as store:
        digests = [store.get(run.id).suite.get("digest") for run in store.runs()]
        assert digests == [STANDARD.digest] + [UNKNOWN_DIGEST] * 4
        assert store.lookup(key).robust_acc == 0.45  # the genuine run (9 of 20), not the newer poisoned one
        assert store.conn.execute("SELECT COUNT(*) FROM states").fetchone()[0] == 0
        assert (
            store.conn.execute("PRAGMA user_version").fetchone()[0] == 3 and store.integrity_problems() == []
        )
        stored = store.get(store.runs()[0].id)
        assert stored.suite["definition"] == STANDARD.definition() and stored.key == key


# --- boards and reports say which suite produced each number


def test_boards_show_the_suite_and_mark_every_suite_that_is_not_the_built_in(tmp_path):
    from robench.data import load_dataset
    from robench.engine.identity import suite_description
    from robench.leaderboard.entries import make_entry, write_entry
    from robench.leaderboard.render import write_board

    points = load_dataset("digits", "test").subset(20, 0)
    key = _key("ab" * 32, "x", "1", points.subset_sha256())
    mine = load_suite_text(tmp_path, 'name = "mine"\nversion = "1"\nattacks = ["fgsm", "pgd-20"]\n')
    suites = {
        "genuine": {**suite_description(STANDARD), "attacks": list(STANDARD.attacks)},
        "mine": {**suite_description(mine), "attacks": ["fgsm", "pgd-20"]},
        "forged": {**suite_description(STANDARD), "attacks": ["fgsm"], "definition": {"attacks": ["fgsm"]}},
        "legacy": {"name": "standard", "version": "3", "attacks": ["fgsm"]},  # an entry from before digests
    }
    for robust, (name, suite) in enumerate(suites.items()):
        write_entry(make_entry(name, _record(key, suite, 18, 10 - robust, points)), tmp_path / "lb")
    board = write_board("digits", "linf", tmp_path / "lb")
    rows = {line.split(" | ")[1]: line for line in board.md.read_text().splitlines() if line.startswith("| ")}
    assert f"| standard v3 · {STANDARD.digest[:8]} |" in rows["genuine"]
    assert f"| [mine v1 · {mine.digest[:8]} ⚑](#suite-2) |" in rows["mine"]
    assert "| [standard v3 · digest unknown ⚑](#suite-3) |" in rows["forged"]
    assert "| [standard v3 · digest unknown ⚑](#suite-3) |" in rows["legacy"]
    text = board.md.read_text()
    described = f"mine v1 · {mine.digest[:8]} ⚑ (not built in), sha256 `{mine.digest}`: fgsm → pgd-20"
    assert f'<a id="suite-2"></a>{described}' in text
    html = board.html.read_text()
    assert '<a href="#suite-2">' in html and '<li id="suite-2">' in html
    frame = {row["model"]: row for row in _csv(board.csv)}
    assert (frame["genuine"]["suite_builtin"], frame["forged"]["suite_digest"]) == ("True", UNKNOWN_DIGEST)


def _key(checkpoint: str, suite: str, version: str | None, subset: str) -> EvaluationKey:
    """A key on digits/test, linf 0.3, seed 0."""
    return EvaluationKey(
        checkpoint_sha256=checkpoint,
        dataset="digits",
        threat="linf",
        eps=0.3,
        suite_name=suite,
        suite_version=version,
        subset_sha256=subset,
        seed=0,
    )


def load_suite_text(folder, text):
    path = folder / "mine.toml"
    path.write_text(text)
    return load_suite(path)


def _csv(path):
    import csv

    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def test_a_record_of_a_suite_given_as_attack_objects_is_never_reused(tmp_path, tiny_digits_card):
    from robench.attacks import build_attack
    from robench.engine.identity import suite_description
    from robench.threat import ThreatModel

    attack = build_attack("pgd-7", ThreatModel("linf", 0.3), step_size=0.2)  # settings its spec does not say
    suite = {**suite_description(["fgsm", attack]), "attacks": ["fgsm", "pgd-7"]}
    assert suite["digest"] == ""
    key = _key(tiny_digits_card.sha256, "custom", None, "cd" * 32)
    assert (
        not replace(key, suite_digest=suite["digest"]).reusable and replace(key, suite_digest="ab").reusable
    )


def test_a_gate_baseline_from_another_suite_content_is_named_in_the_warning(tmp_path):
    from robench.data import load_dataset
    from robench.engine.identity import suite_description
    from robench.gate.criteria import check_comparable

    points = load_dataset("digits", "test").subset(20, 0)
    key = _key("ab" * 32, "x", "1", points.subset_sha256())
    mine = load_suite_text(tmp_path, 'name = "mine"\nversion = "1"\nattacks = ["fgsm"]\n')
    other = load_suite_text(tmp_path, 'name = "mine"\nversion = "1"\nattacks = ["fgsm", "pgd-20"]\n')
    ours = _record(key, {**suite_description(mine), "attacks": ["fgsm"]}, 18, 9, points)
    theirs = _record(key, {**suite_description(other), "attacks": ["fgsm", "pgd-20"]}, 18, 9, points)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_comparable(ours, ours)  # the same suite content: no warning
    with pytest.warns(
        UserWarning, match=rf"suite mine v1 · {other.digest[:8]} ⚑, this run mine v1 · {mine.digest[:8]} ⚑"
    ):
        check_comparable(ours, theirs)
