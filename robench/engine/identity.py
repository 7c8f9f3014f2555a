"""The engine's side of an evaluation's identity (``robench.core.identity``): the record's ``suite`` of a
loaded suite, and the key of evaluating a dataset's subset under a threat with that suite, created once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from robench.attacks.suites import Suite, content_digest
from robench.core.identity import EvaluationKey, PointsKey
from robench.data.base import ImageDataset
from robench.engine.settings import RunSettings
from robench.threat import ThreatModel


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


def points_key_of(
    points: ImageDataset, threat: ThreatModel, seed: int, checkpoint_sha256: str | None
) -> PointsKey:
    """The key of these evaluated points (``evaluation_points``) of a model under ``threat``."""
    return PointsKey(
        checkpoint_sha256=checkpoint_sha256,
        dataset=points.name,
        split=points.split,
        threat=threat.norm,
        eps=float(threat.eps),
        seed=int(seed),
        subset_sha256=points.subset_sha256(),
        data_fingerprint=points.fingerprint(),
    )


def evaluation_key_of(
    dataset: ImageDataset,
    threat: ThreatModel,
    settings: RunSettings,
    checkpoint_sha256: str | None,
    suite: dict[str, Any],
) -> EvaluationKey:
    """The key of evaluating ``dataset`` (its subset for ``settings``) under ``threat`` with the suite
    ``suite`` describes (``suite_description``): the one function that creates it, before anything runs."""
    points = points_key_of(evaluation_points(dataset, settings), threat, settings.seed, checkpoint_sha256)
    return EvaluationKey(
        **vars(points),
        suite_name=suite["name"],
        suite_version=suite["version"],
        suite_digest=suite["digest"],
        mode=settings.mode,
        block_size=settings.block_size,
    )


def evaluation_points(dataset: ImageDataset, settings: RunSettings) -> ImageDataset:
    """The points an evaluation runs on: the subset for (n, seed), decoded into memory once."""
    return dataset.subset(settings.n, settings.seed).materialize()
