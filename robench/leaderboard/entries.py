"""Leaderboard entries: ``leaderboards/<dataset>/<threat>/entries/<name>.json``, one file per model.

An entry is the results record without per-sample data (numbers as numbers), plus ``model_card`` (the
model card's fields) and ``entry_version``. The boards (.md/.csv/.html) are regenerated from these files only.
An entry file that already says the same (everything but timings, the date and the versions, ``VOLATILE``)
is left as it is, so re-running an evaluation that reproduces its numbers changes no committed file.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from robench.core.documents import check_fields, read_document
from robench.core.limits import ENTRY_BYTES
from robench.core.names import check_name, inside
from robench.core.record import EvaluationResult
from robench.errors import RobenchError
from robench.threat import ThreatModel

ENTRY_VERSION = 2
#: keys whose values change from run to run without the numbers changing: wall-clock seconds (of every
#: cost and certificate), the creation date and the environment (versions, git commit, device)
VOLATILE = frozenset({"seconds", "created", "env"})


def leaderboards_root(root: str | os.PathLike | None = None) -> Path:
    """The explicit folder, else ``$ROBENCH_LEADERBOARDS``, else ``./leaderboards``."""
    return Path(root or os.environ.get("ROBENCH_LEADERBOARDS") or "leaderboards")


def board_dir(dataset: str, threat: str, root: str | os.PathLike | None = None) -> Path:
    return leaderboards_root(root) / dataset / threat


@dataclass
class Entry:
    name: str
    result: EvaluationResult  # samples empty
    card: dict[str, Any] = field(default_factory=dict)  # the model card's fields, as the submitter's file

    def to_dict(self) -> dict[str, Any]:
        record = self.result.to_dict(samples=False)
        return {"entry_version": ENTRY_VERSION, "name": self.name, **record, "model_card": self.card}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Entry:
        data = dict(data)
        if data.get("entry_version", 1) < 2:  # version 1 kept the model card's fields under "card"
            data["model_card"] = data.pop("card", {})
        card = dict(data.pop("model_card", None) or {})
        result = EvaluationResult.from_dict(
            {k: v for k, v in data.items() if k not in ("name", "entry_version")}
        )
        if result.key.suite_digest is None:  # from before suite digests
            from robench.attacks.suites import legacy_suite  # torch: not at the command line's start-up

            result.set_suite(legacy_suite(result.suite, randomized=result.eot_samples > 1))
        return cls(name=data["name"], result=result, card=card)


def card_metadata(card: Any) -> dict[str, Any]:
    """The card's fields for an entry (a ModelCard or a plain dict); the local path is left out."""
    data = card.to_dict() if hasattr(card, "to_dict") else dict(card)
    data.pop("path", None)
    return data


def make_entry(name: str, result: EvaluationResult, card: Any = None) -> Entry:
    check_name(name, "entry name")
    return Entry(name=name, result=result.slim(), card=card_metadata(card) if card is not None else {})


def entry_path(dataset: str, threat: str, name: str, root: str | os.PathLike | None = None) -> Path:
    """``<root>/<dataset>/<threat>/entries/<name>.json``, every part a name (robench.core.names)."""
    for value, what in ((dataset, "dataset"), (threat, "threat"), (name, "entry name")):
        check_name(value, what)
    return board_dir(dataset, threat, root) / "entries" / f"{name}.json"


def substance(data: Any) -> Any:
    """An entry's JSON without its ``VOLATILE`` keys (at any depth): what two runs must agree on."""
    if isinstance(data, dict):
        return {k: substance(v) for k, v in data.items() if k not in VOLATILE}
    if isinstance(data, list):
        return [substance(v) for v in data]
    return data


def write_entry(entry: Entry, root: str | os.PathLike | None = None) -> Path:
    """Write (atomically replace) the entry file, unless it already says the same but for ``VOLATILE``
    values (then it is kept, timings and date included); returns its path."""
    result = entry.result
    path = inside(
        leaderboards_root(root), entry_path(result.dataset, result.threat, entry.name, root), "entry"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    data = json.loads(json.dumps(entry.to_dict()))  # as it reads back (tuples become lists)
    if path.is_file():
        try:
            if substance(json.loads(path.read_text())) == substance(data):
                return path
        except (OSError, json.JSONDecodeError):
            pass  # unreadable: replaced below
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    os.replace(tmp, path)
    return path


def _stated_counts(data: dict[str, Any]) -> None:
    """The counts an entry states (it keeps no samples): n an integer, the accuracies fractions."""
    n = data.get("n")
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise RobenchError(f"'n' must be an integer >= 0, got {n!r}")
    for key in ("clean_acc", "robust_acc"):
        value = data.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            raise RobenchError(f"'{key}' must be a fraction in [0, 1], got {value!r}")


def read_entry(path: Path) -> Entry:
    """One entry file, read within the caps (robench.core.documents) and checked field by field; its
    name must equal the file's; a malformed file is a one-line error naming it."""
    from robench.diagnostics.catalog import refresh_findings

    where = f"leaderboard entry {path}"
    data = read_document(path, "leaderboard entry", max_bytes=ENTRY_BYTES)
    if not isinstance(data, dict):
        raise RobenchError(f"{where} must hold a JSON object")
    try:
        check_name(data.get("name"), "its name")
        _stated_counts(data)
    except RobenchError as exc:
        raise RobenchError(f"{where}: {exc}") from None
    if data["name"] != path.stem:
        raise RobenchError(f"{where}: its name {data['name']!r} must equal the file name {path.stem!r}")
    try:
        entry = Entry.from_dict(data)
    except (AttributeError, KeyError, TypeError, ValueError) as exc:  # a field of the wrong shape
        raise RobenchError(f"{where} is not a valid entry ({type(exc).__name__}: {exc})") from None
    check_fields(entry.result, where)
    try:
        ThreatModel(entry.result.threat, entry.result.eps)
    except RobenchError as exc:
        raise RobenchError(f"{where}: {exc}") from None
    refresh_findings(entry.result)  # an entry written before model findings were told apart gets them now
    return entry


def load_entries(dataset: str, threat: str, root: str | os.PathLike | None = None) -> list[Entry]:
    """All entries of one board, by file name; a malformed file is a one-line error naming it."""
    folder = board_dir(dataset, threat, root) / "entries"
    entries = []
    for path in sorted(folder.glob("*.json")):
        entry = read_entry(path)
        if (entry.result.dataset, entry.result.threat) != (dataset, threat):
            raise RobenchError(
                f"leaderboard entry {path} is for {entry.result.dataset}/{entry.result.threat}, "
                f"not {dataset}/{threat}"
            )
        entries.append(entry)
    return entries


def list_boards(root: str | os.PathLike | None = None) -> list[tuple[str, str]]:
    """(dataset, threat) of every folder holding entries."""
    base = leaderboards_root(root)
    return sorted((p.parent.parent.name, p.parent.name) for p in base.glob("*/*/entries") if p.is_dir())
