"""The results record: typed, numbers as numbers, serialised to the documented JSON schema (docs/results.md).

Everything a later step reads is a typed field: the per-stage rows, the per-sample outcomes, the attack
outputs that failed verification, the attacks that crashed, the points with unusable gradients, the
randomness probe, the diagnostics' checks and extra breaks, the model card. ``extra`` is free-form
(e.g. an eps sweep for the report) and nothing downstream depends on it. ``n``, ``clean_acc`` and
``robust_acc`` are derived from the samples (a record without samples, such as a leaderboard entry,
keeps the counts instead), so they can never disagree with them. Schema version 1 records (before the
typed fields) are read and converted.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from robench.core.cost import Cost
from robench.core.migrate import upgrade_v1

SCHEMA_VERSION = 2


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
    cost: Cost = field(default_factory=Cost)  # passes in samples, counted at the model, and seconds
    rejected: int = 0  # attack outputs that failed verification (never counted as successes)


@dataclass
class SampleResult:
    index: int  # canonical dataset index
    label: int
    clean_correct: bool
    robust: bool
    broken_by: str | None = None  # stage (or diagnostic attack) that first broke it


@dataclass
class Rejection:
    """An attack output that failed verification: the point keeps its status, never counts as broken."""

    stage: str
    index: int
    reason: str


@dataclass
class AttackFailure:
    """An attack that raised on points whose input gradient is unusable: they count as robust, flagged."""

    stage: str
    indices: list[int]
    error: str


@dataclass
class NonFinite:
    """A valid adversarial input on which the model's logits are NaN/inf (counted as broken)."""

    stage: str
    index: int


@dataclass
class GradientProblems:
    """Canonical indices whose clean-pass input gradient is missing (graph broken) or exactly zero."""

    no_graph: list[int] = field(default_factory=list)
    zero_grad: list[int] = field(default_factory=list)

    def indices(self) -> set[int]:
        return set(self.no_graph) | set(self.zero_grad)


@dataclass
class Problems:
    """What went wrong while attacking: read by the diagnostics, shown in reports."""

    rejected: list[Rejection] = field(default_factory=list)
    attack_errors: list[AttackFailure] = field(default_factory=list)
    nonfinite_logits: list[NonFinite] = field(default_factory=list)
    gradients: GradientProblems = field(default_factory=GradientProblems)


@dataclass
class ProbeSummary:
    """The randomness probe run before the suite (repeated forwards on a few points)."""

    randomized: bool = False
    points: int = 0
    forward: int = 0


@dataclass
class CheckRun:
    check: str
    cost: Cost
    broken: int  # extra points this check broke (verified), folded into the worst case


@dataclass
class DiagnosticsSummary:
    checks: list[CheckRun] = field(default_factory=list)
    broken: dict[int, str] = field(default_factory=dict)  # canonical index -> attack that broke it
    sample_size: int = 0

    @property
    def cost(self) -> Cost:
        return sum((c.cost for c in self.checks), Cost())


@dataclass
class CardSummary:
    """The model card an evaluation came from (written by every entry point, CLI and Python alike)."""

    id: str
    recipe: str = ""
    source: str = ""
    paper: str = ""


@dataclass
class ModelInfo:
    """What was evaluated: the layout actually built, its options, the normalisation and its source."""

    architecture: str | None = None  # as named by the card or the caller
    layout: str | None = None  # the registered layout built (None: a module handed over in Python)
    arch_kwargs: dict[str, Any] = field(default_factory=dict)
    normalization: dict[str, Any] | None = None  # {mean, std, source, detail}
    notes: list[str] = field(default_factory=list)  # what the loader adapted in the checkpoint


@dataclass
class DataInfo:
    """Which data was evaluated: the spec as given, its board name, preprocessing and fingerprint."""

    spec: str = ""
    preprocessing: str = "none"
    fingerprint: str = ""  # sha256 of the evaluated images and labels (robench.data.ImageDataset)
    missing: int = 0  # samples of the split not found on disk


@dataclass
class Counts:
    """The accuracies' counts of a record kept without its samples (a leaderboard entry)."""

    n: int
    clean_correct: int
    robust: int


@dataclass
class EvaluationResult:
    model: str
    checkpoint_sha256: str | None
    dataset: str
    split: str
    threat: str
    eps: float
    seed: int
    subset_sha256: str
    suite: dict[str, Any]  # {name, version, attacks}
    mode: str  # "cascade" | "independent"
    stages: list[StageResult]
    samples: list[SampleResult]
    flags: list[Flag] = field(default_factory=list)
    verdict: str = "unchecked"
    clean_cost: Cost = field(default_factory=Cost)
    problems: Problems = field(default_factory=Problems)
    probe: ProbeSummary = field(default_factory=ProbeSummary)
    eot_samples: int = 1
    batch_size: int = 0
    block_size: int = 0
    diagnostics: DiagnosticsSummary | None = None
    card: CardSummary | None = None
    model_info: ModelInfo | None = None
    data_info: DataInfo | None = None
    env: dict[str, Any] = field(default_factory=dict)
    created: str = ""
    schema_version: int = SCHEMA_VERSION
    extra: dict[str, Any] = field(default_factory=dict)  # free-form; nothing downstream depends on it
    counts: Counts | None = None  # only for records kept without samples

    @property
    def n(self) -> int:
        return len(self.samples) if self.samples or self.counts is None else self.counts.n

    @property
    def clean_acc(self) -> float:
        if self.samples or self.counts is None:
            return sum(s.clean_correct for s in self.samples) / max(len(self.samples), 1)
        return self.counts.clean_correct / max(self.counts.n, 1)

    @property
    def robust_acc(self) -> float:
        if self.samples or self.counts is None:
            return sum(s.robust for s in self.samples) / max(len(self.samples), 1)
        return self.counts.robust / max(self.counts.n, 1)

    @property
    def suite_cost(self) -> Cost:
        """Clean pass and every stage of the suite (what ``robench evaluate --no-diagnostics`` spends)."""
        return sum((s.cost for s in self.stages), self.clean_cost)

    @property
    def total_cost(self) -> Cost:
        """Everything the evaluation spent: clean pass, probe forwards, suite and diagnostics."""
        total = self.suite_cost + Cost(forward=self.probe.forward)
        return total + self.diagnostics.cost if self.diagnostics is not None else total

    def stage_acc(self, attack: str) -> float | None:
        """Cumulative robust accuracy after the named stage, or None if the suite had no such stage."""
        return next((s.robust_acc for s in self.stages if s.attack == attack), None)

    def slim(self) -> EvaluationResult:
        """A copy without per-sample outcomes (its counts kept): what leaderboard entries hold."""
        return EvaluationResult.from_dict(self.to_dict(samples=False))

    def to_dict(self, *, samples: bool = True) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("samples", "counts")}
        data = {k: asdict(v) if hasattr(v, "__dataclass_fields__") else v for k, v in data.items()}
        data["stages"] = [asdict(s) for s in self.stages]
        data["flags"] = [asdict(f) for f in self.flags]
        if self.diagnostics is not None:
            data["diagnostics"]["broken"] = {str(k): v for k, v in self.diagnostics.broken.items()}
        data |= {"n": self.n, "clean_acc": self.clean_acc, "robust_acc": self.robust_acc}
        if samples:
            data["samples"] = [asdict(s) for s in self.samples]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EvaluationResult:
        data = upgrade_v1(data) if data.get("schema_version", 1) < 2 else dict(data)
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["stages"] = [_stage(s) for s in data.get("stages", [])]
        values["samples"] = [SampleResult(**s) for s in data.get("samples", [])]
        values["flags"] = [Flag(**f) for f in data.get("flags", [])]
        values["clean_cost"] = Cost(**data.get("clean_cost", {}))
        values["problems"] = _problems(data.get("problems") or {})
        values["probe"] = ProbeSummary(**data.get("probe", {}))
        values["diagnostics"] = _diagnostics(data.get("diagnostics"))
        values["card"] = CardSummary(**data["card"]) if data.get("card") else None
        values["model_info"] = ModelInfo(**data["model_info"]) if data.get("model_info") else None
        values["data_info"] = DataInfo(**data["data_info"]) if data.get("data_info") else None
        values["schema_version"] = SCHEMA_VERSION
        if not values["samples"] and "n" in data:
            n = int(data["n"])
            values["counts"] = Counts(n, round(data["clean_acc"] * n), round(data["robust_acc"] * n))
        result = cls(**values)
        _check_stated_counts(result, data)
        return result

    def to_json(self, path: str | Path | None = None, *, samples: bool = True) -> str:
        text = json.dumps(self.to_dict(samples=samples), indent=2)
        if path is not None:
            Path(path).write_text(text + "\n")
        return text

    @classmethod
    def from_json(cls, path: str | Path) -> EvaluationResult:
        return cls.from_dict(json.loads(Path(path).read_text()))


def _check_stated_counts(result: EvaluationResult, data: dict[str, Any]) -> None:
    """A record file whose stated accuracies disagree with its own samples is damaged or edited: the
    samples decide (they are what was measured), and the reader is told."""
    if not result.samples or "robust_acc" not in data:
        return
    stated = (int(data.get("n", result.n)), data.get("clean_acc"), data.get("robust_acc"))
    if stated[0] != result.n or any(
        not isinstance(v, int | float) or abs(v - d) > 1e-9
        for v, d in zip(stated[1:], (result.clean_acc, result.robust_acc), strict=True)
    ):
        warnings.warn(
            f"the record's stated accuracies (n={stated[0]}, clean {stated[1]}, robust {stated[2]}) disagree "
            f"with its per-sample outcomes (n={result.n}, clean {result.clean_acc:.4f}, robust "
            f"{result.robust_acc:.4f}); robench uses the samples",
            stacklevel=3,
        )


def _stage(data: dict[str, Any]) -> StageResult:
    return StageResult(**{**data, "cost": Cost(**data.get("cost", {}))})


def _problems(data: dict[str, Any]) -> Problems:
    return Problems(
        rejected=[Rejection(**r) for r in data.get("rejected", [])],
        attack_errors=[AttackFailure(**e) for e in data.get("attack_errors", [])],
        nonfinite_logits=[NonFinite(**e) for e in data.get("nonfinite_logits", [])],
        gradients=GradientProblems(**data.get("gradients", {})),
    )


def _diagnostics(data: dict[str, Any] | None) -> DiagnosticsSummary | None:
    if data is None:
        return None
    checks = [CheckRun(c["check"], Cost(**c["cost"]), c["broken"]) for c in data.get("checks", [])]
    broken = {int(k): v for k, v in data.get("broken", {}).items()}
    return DiagnosticsSummary(checks, broken, int(data.get("sample_size", 0)))
