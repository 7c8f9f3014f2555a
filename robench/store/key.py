"""What identifies a stored result: the same key means the same evaluation, so its result can be reused."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass

from robench.core.record import EvaluationResult


@dataclass(frozen=True)
class ResultKey:
    """Checkpoint + data points + threat + suite + seed + mode: everything the robust accuracy depends on.

    ``split`` is part of the points' identity (a split's canonical indices may repeat another's); it is
    left out of the digest for the test split, so results stored before it was added keep matching.
    """

    checkpoint_sha256: str | None
    dataset: str
    threat: str
    eps: float
    suite_name: str
    suite_version: str
    subset_sha256: str
    seed: int
    mode: str = "cascade"
    split: str = "test"

    @classmethod
    def of(cls, result: EvaluationResult) -> ResultKey:
        return cls(
            checkpoint_sha256=result.checkpoint_sha256,
            dataset=result.dataset,
            threat=result.threat,
            eps=float(result.eps),
            suite_name=str(result.suite.get("name", "")),
            suite_version=str(result.suite.get("version", "")),
            subset_sha256=result.subset_sha256,
            seed=int(result.seed),
            mode=result.mode,
            split=result.split,
        )

    @property
    def reusable(self) -> bool:
        """A result without a checkpoint hash cannot be matched safely to a later request."""
        return bool(self.checkpoint_sha256)

    def digest(self) -> str:
        """sha256 of the canonical JSON of the key (eps as its exact float repr)."""
        fields = asdict(self) | {"eps": repr(float(self.eps)), "seed": int(self.seed)}
        if self.split == "test":
            del fields["split"]
        text = json.dumps(fields, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()
