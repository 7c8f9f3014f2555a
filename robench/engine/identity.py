"""What makes two evaluations the same, defined once: the key of a stored result and the identity a
resumed run must match.

``EvaluationKey`` holds everything the per-point outcomes depend on: checkpoint, points (dataset, split,
subset), threat and eps, suite (name, version and content digest), seed, mode and block size (attacks
with per-call randomness run per block). A stored result with the same key is the same evaluation, so it
can be reused; ``Outcome.config`` (what a resume must match) is the key plus the facts derived from it.
The suite's part comes from the record's ``suite`` fields (``suite_description``), before the run and
from a record alike.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from robench.attacks.suites import UNKNOWN_DIGEST, Suite, content_digest
from robench.core.record import EvaluationResult
from robench.data.base import ImageDataset
from robench.engine.settings import BLOCK_SIZE, RunSettings
from robench.threat import ThreatModel


@dataclass(frozen=True)
class EvaluationKey:
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
    block_size: int = BLOCK_SIZE
    data_fingerprint: str = ""  # of the evaluated images and labels: two folders never share a key
    #: sha256 of the suite's content (robench.attacks.suites.content_digest); "" or "unknown": none known
    suite_digest: str = ""

    @classmethod
    def of(cls, result: EvaluationResult) -> EvaluationKey:
        return cls(
            checkpoint_sha256=result.checkpoint_sha256,
            dataset=result.dataset,
            threat=result.threat,
            eps=float(result.eps),
            **suite_key(result.suite),
            subset_sha256=result.subset_sha256,
            seed=int(result.seed),
            mode=result.mode,
            split=result.split,
            block_size=int(result.block_size or BLOCK_SIZE),
            data_fingerprint=result.data_info.fingerprint if result.data_info else "",
        )

    @property
    def reusable(self) -> bool:
        """A result without a checkpoint hash or a known suite digest cannot be matched safely to a later
        request."""
        return bool(self.checkpoint_sha256) and self.suite_digest not in ("", UNKNOWN_DIGEST)

    def digest(self) -> str:
        """sha256 of the canonical JSON of every field (eps as its exact float repr)."""
        fields = asdict(self) | {"eps": repr(float(self.eps)), "seed": int(self.seed)}
        text = json.dumps(fields, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()


def evaluation_config(
    key: EvaluationKey, *, model: str, n: int, suite: dict[str, Any], eot_samples: int
) -> dict[str, Any]:
    """The identity an outcome carries (and a resumed state must match): the key, the record's labels and
    what the key determines (the suite's attacks as built, the EOT samples the probe chose)."""
    return {
        "model": model,
        "checkpoint_sha256": key.checkpoint_sha256,
        "dataset": key.dataset,
        "split": key.split,
        "threat": key.threat,
        "eps": float(key.eps),
        "n": n,
        "seed": int(key.seed),
        "subset_sha256": key.subset_sha256,
        "suite": suite,
        "mode": key.mode,
        "eot_samples": eot_samples,
        "block_size": key.block_size,
    }


def suite_key(suite: dict[str, Any]) -> dict[str, str]:
    """The key's fields of a record's ``suite`` (or of ``suite_description``): name, version, digest."""
    return {
        "suite_name": str(suite.get("name", "")),
        "suite_version": str(suite.get("version", "")),
        "suite_digest": str(suite.get("digest") or ""),
    }


def suite_description(suite: Suite | Sequence[Any]) -> dict[str, Any]:
    """The record's ``suite`` for a loaded suite (a Suite, or a list of attack specs and Attack objects,
    named "custom"): name, version, attacks (as declared; the engine records them as built), content
    digest and definition. A list holding Attack objects has no digest (their settings are not all in
    their specs): its results are never reused."""
    if isinstance(suite, Suite):
        name, version, specs, definition = suite.name, suite.version, list(suite.attacks), suite.definition()
        return {
            "name": name,
            "version": version,
            "attacks": specs,
            "digest": suite.digest,
            "definition": definition,
        }
    specs = [item if isinstance(item, str) else getattr(item, "spec", str(item)) for item in suite]
    digest = content_digest(specs) if all(isinstance(item, str) for item in suite) else ""
    return {
        "name": "custom",
        "version": None,
        "attacks": specs,
        "digest": digest,
        "definition": {"attacks": specs},
    }


def evaluation_key_of(
    dataset: ImageDataset,
    threat: ThreatModel,
    settings: RunSettings,
    checkpoint_sha256: str | None,
    suite: dict[str, Any],
) -> EvaluationKey:
    """The key of evaluating ``dataset`` (its subset for ``settings``) under ``threat`` with the suite
    ``suite`` describes (``suite_description``): the one function that defines it, for the engine's record
    and for a lookup before anything runs."""
    points = evaluation_points(dataset, settings)
    return EvaluationKey(
        checkpoint_sha256=checkpoint_sha256,
        dataset=dataset.name,
        threat=threat.norm,
        eps=float(threat.eps),
        **suite_key(suite),
        subset_sha256=points.subset_sha256(),
        seed=int(settings.seed),
        mode=settings.mode,
        split=dataset.split,
        block_size=settings.block_size,
        data_fingerprint=points.fingerprint(),
    )


def evaluation_points(dataset: ImageDataset, settings: RunSettings) -> ImageDataset:
    """The points an evaluation runs on: the subset for (n, seed), decoded into memory once."""
    return dataset.subset(settings.n, settings.seed).materialize()
