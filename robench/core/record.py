"""The results record: typed, numbers as numbers, serialised to the documented JSON schema.

Schema (a public contract; see README "Results JSON"):
  model, checkpoint_sha256, dataset, split, threat, eps, n, seed, subset_sha256,
  suite {name, version, attacks}, mode ("cascade" | "independent"),
  clean_acc, robust_acc (worst case over all stages, fraction in [0, 1]),
  stages: [{attack, robust_acc (cumulative after this stage; in independent mode the attack's own accuracy),
            attacked, broken, forward, backward, seconds, rejected (outputs that failed verification)}],
  samples: [{index (canonical dataset index), label, clean_correct, robust, broken_by}],
  flags: [{code, severity, message, evidence}], verdict ("reliable" | "unreliable" | "unchecked"),
  env {robench, torch, pyautoattack, device, git, python}, created (ISO-8601 UTC), schema_version,
  extra {batch_size, eot_samples, clean_cost, total_cost, gradient_problems {no_graph, zero_grad},
         rejected, nonfinite_logits, attack_errors, randomness_probe, card?, diagnostics?}.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

SCHEMA_VERSION = 1


@dataclass
class Flag:
    code: str
    severity: str  # "error" | "warning" | "info"
    message: str
    evidence: dict[str, Any] = field(default_factory=dict)


@dataclass
class StageResult:
    attack: str
    robust_acc: float  # cumulative: fraction of all n points still robust after this stage
    attacked: int  # points this stage attacked
    broken: int  # points this stage broke (verified)
    forward: int  # forward passes in samples, counted at the model
    backward: int  # backward passes in samples, counted at the model
    seconds: float
    rejected: int = 0  # attack outputs that failed verification (never counted as successes)


@dataclass
class SampleResult:
    index: int  # canonical dataset index
    label: int
    clean_correct: bool
    robust: bool
    broken_by: str | None = None  # stage name that first broke it (null if robust or clean-wrong)


@dataclass
class EvaluationResult:
    model: str
    checkpoint_sha256: str | None
    dataset: str
    split: str
    threat: str
    eps: float
    n: int
    seed: int
    subset_sha256: str
    suite: dict[str, Any]  # {name, version, attacks}
    mode: str
    clean_acc: float
    robust_acc: float
    stages: list[StageResult]
    samples: list[SampleResult]
    flags: list[Flag] = field(default_factory=list)
    verdict: str = "unchecked"
    env: dict[str, Any] = field(default_factory=dict)
    created: str = ""
    schema_version: int = SCHEMA_VERSION
    extra: dict[str, Any] = field(default_factory=dict)  # free-form: card metadata, diagnostics costs

    def to_dict(self, *, samples: bool = True) -> dict[str, Any]:
        data = asdict(self)
        if not samples:
            data.pop("samples")
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EvaluationResult:
        known = {f.name for f in fields(cls)}
        kwargs = {k: v for k, v in data.items() if k in known}
        kwargs["stages"] = [StageResult(**s) for s in data.get("stages", [])]
        kwargs["samples"] = [SampleResult(**s) for s in data.get("samples", [])]
        kwargs["flags"] = [Flag(**f) for f in data.get("flags", [])]
        return cls(**kwargs)

    def to_json(self, path: str | Path | None = None, *, samples: bool = True) -> str:
        text = json.dumps(self.to_dict(samples=samples), indent=2)
        if path is not None:
            Path(path).write_text(text + "\n")
        return text

    @classmethod
    def from_json(cls, path: str | Path) -> EvaluationResult:
        return cls.from_dict(json.loads(Path(path).read_text()))

    def stage_acc(self, attack: str) -> float | None:
        """Cumulative robust accuracy after the named stage, or None if the suite had no such stage."""
        return next((s.robust_acc for s in self.stages if s.attack == attack), None)
