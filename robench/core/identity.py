"""What makes two evaluations the same, declared once: the key of a stored result, the identity a resumed
run must match and the identity fields of every record.

``PointsKey`` says which points of which model were looked at under which threat (checkpoint, dataset,
split, subset, data fingerprint, threat, eps, seed): what a certification depends on. ``EvaluationKey``
adds the suite (name, version and content digest), the mode and the block size (attacks with per-call
randomness run per block): everything the per-point outcomes depend on. The engine creates the key once
(``robench.engine.identity.evaluation_key_of``); the outcome carries it, the record embeds it, the store
writes it. A stored result with the same key is the same evaluation, so it can be reused.

In a record's JSON the key's fields are flat, where records have always kept them: most at the top level,
the suite's under ``suite`` and the fingerprint under ``data_info`` (``RECORD_PLACE``); ``to_record`` and
``from_record`` are the only readers and writers of that layout.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, fields
from typing import Any

#: points per block for attacks with per-call randomness (and the unit of sharding): large enough for
#: AutoAttack to work on full batches, small enough to balance shards of real evaluations; a record from
#: before block sizes were kept ran with it
BLOCK_SIZE = 256
#: the digest of a recorded suite whose content is not known (recorded before digests, or inconsistent):
#: never reused
UNKNOWN_DIGEST = "unknown"


@dataclass(frozen=True, kw_only=True)
class PointsKey:
    """The model, the points and the threat: what a certification's numbers depend on."""

    checkpoint_sha256: str | None
    dataset: str
    split: str = "test"
    threat: str
    eps: float
    seed: int
    subset_sha256: str
    data_fingerprint: str = ""  # of the evaluated images and labels: two folders never share a key

    def digest(self) -> str:
        """sha256 of the canonical JSON of every field (eps as its exact float repr)."""
        values = asdict(self) | {"eps": repr(float(self.eps)), "seed": int(self.seed)}
        text = json.dumps(values, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    def to_record(self, data: dict[str, Any]) -> None:
        """Write the key's fields into a record's JSON dict (in place), each at its ``RECORD_PLACE``."""
        for name, value in asdict(self).items():
            holder, inner = RECORD_PLACE.get(name, (None, name))
            if holder is None:
                data[name] = value
            elif isinstance(data.get(holder), dict) and (value is not None or name != "suite_digest"):
                data[holder][inner] = value  # a digest of None: a record from before digests, kept so

    @classmethod
    def from_record(cls, data: dict[str, Any]):
        """The key a record's JSON dict holds (a record from before a field was kept: its default)."""
        values = {}
        for f in fields(cls):
            holder, inner = RECORD_PLACE.get(f.name, (None, f.name))
            place = data if holder is None else (data.get(holder) or {})
            if inner in place:
                values[f.name] = place[inner]
        return cls(**_read(values, {f.name for f in fields(cls)}))


@dataclass(frozen=True, kw_only=True)
class EvaluationKey(PointsKey):
    """Everything an evaluation's per-point outcomes depend on (see the module docstring)."""

    suite_name: str
    suite_version: str | None  # None: a custom suite (a list of attacks), which has no version
    #: sha256 of the suite's content (robench.attacks.suites.content_digest); "": none (Attack objects);
    #: UNKNOWN_DIGEST: not established; None: a record from before digests (robench.core.migrate)
    suite_digest: str | None = ""
    mode: str = "cascade"
    block_size: int = BLOCK_SIZE

    @property
    def reusable(self) -> bool:
        """A result without a checkpoint hash or a known suite digest cannot be matched safely to a later
        request."""
        return bool(self.checkpoint_sha256) and self.suite_digest not in (None, "", UNKNOWN_DIGEST)


class Keyed:
    """A record that embeds a key (its ``key`` field): the key's fields read as the record's own
    (``result.eps`` is ``result.key.eps``), declared nowhere else."""

    def __getattr__(self, name: str) -> Any:
        key = self.__dict__.get("key")
        if key is not None and name in {f.name for f in fields(key)}:
            return getattr(key, name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")


#: where a key field sits in a record's JSON when not at its top level: (the object, the name there)
RECORD_PLACE = {
    "suite_name": ("suite", "name"),
    "suite_version": ("suite", "version"),
    "suite_digest": ("suite", "digest"),
    "data_fingerprint": ("data_info", "fingerprint"),
}


def _read(values: dict[str, Any], names: set[str]) -> dict[str, Any]:
    """Values as a record's JSON holds them, typed as the key's where they are of the right kind (an eps
    of 1 as 1.0, a version 3 as "3", a block size of 0 from before block sizes were kept as the default);
    a value of the wrong kind is kept for the reader's checks (robench.core.documents.check_fields)."""
    number = {k: v for k, v in values.items() if isinstance(v, int | float) and not isinstance(v, bool)}
    if "eps" in number:
        values["eps"] = float(number["eps"])
    if isinstance(values.get("suite_version"), int) and not isinstance(values["suite_version"], bool):
        values["suite_version"] = str(values["suite_version"])
    if "block_size" in values and values["block_size"] in (0, None):
        values["block_size"] = BLOCK_SIZE
    for name, missing in (("suite_name", ""), ("suite_version", None), ("suite_digest", None)):
        if name in names:
            values.setdefault(name, missing)
    return values
