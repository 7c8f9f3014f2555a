"""The results record: typed, numbers as numbers, serialised to the documented JSON schema (docs/results.md).

Everything a later step reads is a typed field: the per-stage rows, the per-sample outcomes, the attack
outputs that failed verification, the attacks that crashed, the points with unusable gradients, the
randomness probe, the diagnostics' checks and extra breaks, the model card, the base model's certificates
(a lower bound beside the attacks' upper bound; ``robench.certify``). ``extra`` is free-form
(e.g. an eps sweep for the report) and nothing downstream depends on it. ``n``, ``clean_acc`` and
``robust_acc`` are derived from the samples (a record without samples, such as a leaderboard entry,
keeps the counts instead), so they can never disagree with them. Schema version 1 records (before the
typed fields) are read and converted; schema 2 records (before the suite's content digest) are read as
they are (robench.core.migrate).
"""

from __future__ import annotations

import dataclasses
import json
import warnings
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from robench.core.cost import Cost
from robench.core.identity import EvaluationKey, Keyed, PointsKey
from robench.core.migrate import upgrade_v1

SCHEMA_VERSION = 3


FINDINGS = ("evaluation", "model")


@dataclass
class Flag:
    code: str
    severity: str  # "error" | "warning" | "info"
    message: str
    evidence: dict[str, Any] = field(default_factory=dict)
    #: "evaluation": the number may be wrong (an error makes the verdict unreliable); "model": the model is
    #: broken and the number stands (shown beside the verdict, which it leaves alone)
    finding: str = "evaluation"


def verdict_of(flags: Iterable[Flag], *, checked: bool = True) -> str:
    """The reliability verdict, which speaks to the number: any error flag about the evaluation (its
    number may be wrong) makes it "unreliable"; a model finding (the model is broken, the number stands)
    leaves it alone; without one, "reliable" once the diagnostics ran (``checked``), else "unchecked"."""
    if any(flag.severity == "error" and flag.finding != "model" for flag in flags):
        return "unreliable"
    return "reliable" if checked else "unchecked"


FOCUS = "focus"  # StageResult.escalated_by of a suite's focus stage (robench.pipeline.focus)
ADAPTIVE = "adaptive"  # StageResult.escalated_by of an adaptive attack (robench.pipeline.adaptive)


@dataclass
class StageResult:
    attack: str
    robust_acc: float  # cumulative: fraction of all n points still robust after this stage
    attacked: int  # points this stage attacked
    broken: int  # points this stage broke (verified)
    cost: Cost = field(default_factory=Cost)  # passes in samples, counted at the model, and seconds
    rejected: int = 0  # attack outputs that failed verification (never counted as successes)
    #: None: a cascade stage; FOCUS: the suite's focus (before the diagnostics); else what ran it after
    #: the diagnostics (a flag code whose escalation rule asked for it, "extra_rounds", or ADAPTIVE: an
    #: adaptive attack on a model whose gradients the diagnostics found masked)
    escalated_by: str | None = None

    @property
    def before_diagnostics(self) -> bool:
        """Part of the suite's own attack (a cascade or focus stage), not an escalation."""
        return self.escalated_by in (None, FOCUS)


@dataclass
class SampleResult:
    index: int  # canonical dataset index
    label: int
    clean_correct: bool
    robust: bool
    broken_by: str | None = None  # stage (or diagnostic attack) that first broke it
    #: smallest logit margin z_y - max z_t any cascade stage's verified output reached (None: none was
    #: attacked validly); what a suite's focus ranks survivors by; not kept by the results store
    margin: float | None = None


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
    """Canonical indices whose clean-pass input gradient (of the cross-entropy) is missing (graph broken),
    exactly zero or not finite: the diagnostics read it instead of computing it again."""

    no_graph: list[int] = field(default_factory=list)
    zero_grad: list[int] = field(default_factory=list)
    nonfinite: list[int] = field(default_factory=list)

    def indices(self) -> set[int]:
        return set(self.no_graph) | set(self.zero_grad) | set(self.nonfinite)


@dataclass
class Problems:
    """What went wrong while attacking: read by the diagnostics, shown in reports."""

    rejected: list[Rejection] = field(default_factory=list)
    attack_errors: list[AttackFailure] = field(default_factory=list)
    nonfinite_logits: list[NonFinite] = field(default_factory=list)
    gradients: GradientProblems = field(default_factory=GradientProblems)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Problems:
        """From the JSON (a record's or a saved outcome's); a list a record lacks is empty."""
        return cls(
            rejected=[Rejection(**r) for r in data.get("rejected", [])],
            attack_errors=[AttackFailure(**e) for e in data.get("attack_errors", [])],
            nonfinite_logits=[NonFinite(**e) for e in data.get("nonfinite_logits", [])],
            gradients=GradientProblems(**data.get("gradients", {})),
        )

    def merge(self, other: Problems) -> None:
        """Add another shard's (or stage's) problems to these, in place."""
        self.rejected += other.rejected
        self.attack_errors += other.attack_errors
        self.nonfinite_logits += other.nonfinite_logits
        for name, values in vars(other.gradients).items():
            getattr(self.gradients, name).extend(values)

    def copy(self) -> Problems:
        """A copy whose gradient lists are sorted (canonical order: the record of any sharding is equal)."""
        merged = Problems()
        merged.merge(self)
        merged.gradients = GradientProblems(*(sorted(v) for v in vars(merged.gradients).values()))
        return merged


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
    robustbench: dict[str, Any] | None = None  # RobustBench entry, version, kind, file sha256s, preprocessing


@dataclass
class DataInfo:
    """Which data was evaluated: the spec as given, its board name and preprocessing (its fingerprint, the
    sha256 of the evaluated images and labels, is the key's ``data_fingerprint``; the JSON keeps it here)."""

    spec: str = ""
    preprocessing: str = "none"
    missing: int = 0  # samples of the split not found on disk


CERTIFY_LABELS = {"ibp": "IBP", "crown-ibp": "CROWN-IBP", "crown": "CROWN"}


@dataclass
class CertificateSummary:
    """Sound certificates of the *base model* on the evaluated points by one bound (robench.certify): no
    input of the eps ball (within [0, 1]) changes the prediction of a certified point, so the certified
    accuracy is a lower bound on the robust accuracy that the attacks bound from above. ``certified``
    holds the certified points' canonical indices (None in a leaderboard entry, which keeps the count)."""

    method: str  # the bound that ran: "ibp", "crown-ibp" or "crown"
    requested_method: str  # the one asked for ("crown" runs CROWN-IBP on big networks: see ``note``)
    norm: str  # the threat's norm, "linf" or "l2"
    eps: float  # the radius certified (the record's eps; an eps sweep certifies others)
    n: int  # points of the evaluated subset
    certified_count: int  # points certified: correct on x and provably on the whole ball
    certified: list[int] | None = None  # their canonical indices (None in a leaderboard entry)
    bounded: int = 0  # points this bound ran on (the others: misclassified, or certified by IBP already)
    seconds: float = 0.0
    work: float = 0.0  # bound-propagation work in forward passes of one point (robench.certify.work)
    note: str = ""  # why the method that ran differs from the one requested

    @property
    def certified_acc(self) -> float:
        return self.certified_count / max(self.n, 1)

    @property
    def label(self) -> str:
        return CERTIFY_LABELS.get(self.method, self.method)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"certified_acc": self.certified_acc}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CertificateSummary:
        values = {f.name: data[f.name] for f in fields(cls) if f.name in data}
        if values.get("certified") is not None:
            values["certified_count"] = len(values["certified"])
        return cls(**values)


def best_certificate(certificates: list[CertificateSummary], eps: float) -> CertificateSummary | None:
    """The certificate with the highest certified accuracy at ``eps`` (the cheaper bound on a tie)."""
    at_eps = [c for c in certificates if abs(c.eps - eps) <= 1e-12]
    return max(at_eps, key=lambda c: (c.certified_count, -c.work), default=None)


@dataclass
class SmoothedSummary:
    """Randomized smoothing (robench.certify.smoothing): l2 certificates of the *smoothed* classifier
    g(x) = argmax_c P(f(x + N(0, sigma^2 I)) = c), never of the base model f, each holding with
    probability at least 1 - alpha per point. Per point (canonical index order of the subset): g's
    prediction (-1: abstains) and its certified l2 radius (0 where it abstains)."""

    sigma: float  # noise level (standard deviation, in [0, 1] pixel units)
    n0: int  # noise samples that select g's class
    samples: int  # noise samples that estimate its probability
    alpha: float  # failure probability of each point's certificate
    indices: list[int]  # canonical indices of the points
    labels: list[int]  # their true labels
    smoothed_prediction: list[int]  # g's class per point, -1 where g abstains
    smoothed_radius_l2: list[float]  # g's certified l2 radius per point (0 where it abstains)
    base_forward: int = 0  # forwards of the base model, in samples
    seconds: float = 0.0  # wall-clock seconds
    classifier: str = "smoothed"  # always "smoothed": these are never the base model's certificates

    def smoothed_certified_acc(self, radius: float) -> float:
        """Fraction of points g classifies correctly with a certified l2 radius of at least ``radius``."""
        hits = sum(
            p == y and r >= radius
            for p, y, r in zip(self.smoothed_prediction, self.labels, self.smoothed_radius_l2, strict=True)
        )
        return hits / max(len(self.labels), 1)

    @property
    def abstained(self) -> int:
        return sum(p < 0 for p in self.smoothed_prediction)


@dataclass
class Counts:
    """The accuracies' counts of a record kept without its samples (a leaderboard entry)."""

    n: int
    clean_correct: int
    robust: int


@dataclass
class EvaluationResult(Keyed):
    model: str
    #: what was evaluated (checkpoint, points, threat, suite, seed, mode, block size): its fields read as the
    #: record's own (``result.eps``, ``result.dataset``, ...); the JSON keeps them flat (RECORD_PLACE)
    key: EvaluationKey = field(metadata={"embedded": True})
    #: the suite as it ran, beside the key's name, version and digest: attacks (as built), definition (the
    #: content: attacks, escalate, extra_rounds, focus); ``suite`` shows them together
    suite_content: dict[str, Any]
    stages: list[StageResult]
    samples: list[SampleResult]
    flags: list[Flag] = field(default_factory=list)
    clean_cost: Cost = field(default_factory=Cost)
    problems: Problems = field(default_factory=Problems)
    probe: ProbeSummary = field(default_factory=ProbeSummary)
    eot_samples: int = 1
    batch_size: int = 0
    diagnostics: DiagnosticsSummary | None = None
    card: CardSummary | None = None
    model_info: ModelInfo | None = None
    data_info: DataInfo | None = None
    env: dict[str, Any] = field(default_factory=dict)
    created: str = ""
    schema_version: int = SCHEMA_VERSION
    extra: dict[str, Any] = field(default_factory=dict)  # free-form; nothing downstream depends on it
    counts: Counts | None = None  # only for records kept without samples
    certificates: list[CertificateSummary] = field(default_factory=list)  # the base model's, by bound
    certificates_note: str = ""  # why the evaluation has no certificates (e.g. a layer certify cannot bound)

    @property
    def suite(self) -> dict[str, Any]:
        """{name, version, attacks (as built), digest (sha256 of the suite's content, robench.attacks.suites;
        "" when it has none; absent in a record from before digests), definition}."""
        key = self.key
        head = {"name": key.suite_name, "version": key.suite_version}
        attacks = {"attacks": self.suite_content.get("attacks", [])}
        digest = {} if key.suite_digest is None else {"digest": key.suite_digest}
        rest = {k: v for k, v in self.suite_content.items() if k != "attacks"}
        return head | attacks | digest | rest

    def set_suite(self, suite: dict[str, Any]) -> None:
        """Relabel the record's suite (a migration's ``legacy_suite``): the key follows."""
        self.key = dataclasses.replace(
            self.key,
            suite_name=suite["name"],
            suite_version=suite["version"],
            suite_digest=suite.get("digest"),
        )
        self.suite_content = {k: v for k, v in suite.items() if k not in ("name", "version", "digest")}

    @property
    def verdict(self) -> str:
        """Derived, never stored: "unreliable" with an error flag about the evaluation, else "reliable" once
        the diagnostics ran, else "unchecked" (robench.diagnostics.verdict says what it speaks to)."""
        return verdict_of(self.flags, checked=self.diagnostics is not None)

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

    def __repr__(self) -> str:
        flags = sorted({f.code for f in self.flags if f.severity != "info"})
        return (
            f"EvaluationResult(model={self.model!r}, dataset={self.dataset!r}, threat={self.threat!r}, "
            f"eps={self.eps:g}, n={self.n}, clean_acc={self.clean_acc:.4f}, "
            f"robust_acc={self.robust_acc:.4f}, verdict={self.verdict!r}, flags={flags})"
        )

    def __str__(self) -> str:
        return self.summary()

    def summary(self) -> str:
        """A few lines for a reader (what ``print(result)`` shows): what was evaluated, the accuracies, the
        verdict with any model finding beside it, the ladder of stages, the flags and certificates."""
        suite = f"{self.suite.get('name', '?')} v{self.suite.get('version', '?')}"
        findings = [f.code for f in self.flags if f.severity == "error" and f.finding == "model"]
        verdict = self.verdict + (
            f" (model finding: {', '.join(dict.fromkeys(findings))}; the number stands)" if findings else ""
        )
        ladder = " -> ".join(f"{s.attack} {100 * s.robust_acc:.1f}%" for s in self.stages)
        lines = [
            f"{self.model} on {self.dataset}/{self.split}, {self.threat} eps={self.eps:g}, n={self.n}, "
            f"suite {suite} ({self.mode}), seed {self.seed}",
            f"clean accuracy {100 * self.clean_acc:.2f}%, robust accuracy {100 * self.robust_acc:.2f}% "
            f"(worst case per point); verdict {verdict}",
            f"stages: {ladder or 'none'}",
        ]
        lines += [
            f"[{f.severity}{', model finding' if f.finding == 'model' else ''}] {f.code}: "
            f"{f.message.split('. ')[0].rstrip('.')}."
            for f in self.flags
        ]
        best = best_certificate(self.certificates, self.eps)
        if best is not None:
            lines.append(f"certified accuracy (lower bound) {100 * best.certified_acc:.2f}% ({best.label})")
        return "\n".join(lines)

    def slim(self) -> EvaluationResult:
        """A copy without per-sample outcomes (its counts kept): what leaderboard entries hold."""
        slim = EvaluationResult.from_dict(self.to_dict(samples=False))
        for certificate in slim.certificates:
            certificate.certified = None  # the count stays
        return slim

    def to_dict(self, *, samples: bool = True) -> dict[str, Any]:
        """The JSON schema's dict: the key's fields flat where records keep them (``PointsKey.to_record``),
        then every other field, then the derived verdict and accuracies (and the samples)."""
        data: dict[str, Any] = {"model": self.model, "suite": self.suite}
        self.key.to_record(data)
        data["suite"], data["mode"] = data.pop("suite"), data.pop("mode")
        skipped = ("model", "key", "suite_content", "samples", "counts")
        for f in fields(self):
            if f.name not in skipped:
                value = getattr(self, f.name)
                data[f.name] = asdict(value) if hasattr(value, "__dataclass_fields__") else value
            if f.name in _AFTER:
                data[_AFTER[f.name]] = self.verdict if f.name == "flags" else data.pop(_AFTER[f.name])
        data["stages"] = [asdict(s) for s in self.stages]
        data["flags"] = [asdict(f) for f in self.flags]
        data["certificates"] = [c.to_dict() for c in self.certificates]
        if self.data_info is not None or self.key.data_fingerprint:  # the fingerprint is kept there
            data["data_info"] = _data_info(asdict(self.data_info or DataInfo()), self.key.data_fingerprint)
        if self.diagnostics is not None:
            data["diagnostics"]["broken"] = {str(k): v for k, v in self.diagnostics.broken.items()}
        data |= {"n": self.n, "clean_acc": self.clean_acc, "robust_acc": self.robust_acc}
        if samples:
            data["samples"] = [asdict(s) for s in self.samples]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EvaluationResult:
        """A record from its JSON dict (older schemas converted); what it states and derives must agree."""
        data = upgrade_v1(data) if data.get("schema_version", 1) < 2 else dict(data)
        for name, kind, words in (("suite", dict, "a table"), ("verdict", str, "text")):
            if name in data and not isinstance(data[name], kind):
                raise ValueError(f"'{name}' must be {words}, got {data[name]!r}")
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["key"] = EvaluationKey.from_record(data)
        values["suite_content"] = {
            k: v for k, v in (data.get("suite") or {}).items() if k not in ("name", "version", "digest")
        }
        values["stages"] = [_stage(s) for s in data.get("stages", [])]
        values["samples"] = [SampleResult(**s) for s in data.get("samples", [])]
        values["flags"] = [Flag(**f) for f in data.get("flags", [])]
        values["clean_cost"] = Cost(**data.get("clean_cost", {}))
        values["problems"] = Problems.from_dict(data.get("problems") or {})
        values["probe"] = ProbeSummary(**data.get("probe", {}))
        values["diagnostics"] = _diagnostics(data.get("diagnostics"))
        values["card"] = CardSummary(**data["card"]) if data.get("card") else None
        values["model_info"] = ModelInfo(**data["model_info"]) if data.get("model_info") else None
        values["data_info"] = _read_data_info(data.get("data_info"))
        values["certificates"] = [CertificateSummary.from_dict(c) for c in data.get("certificates", [])]
        values["schema_version"] = SCHEMA_VERSION
        if not values["samples"] and "n" in data:
            n = int(data["n"])
            values["counts"] = Counts(n, round(data["clean_acc"] * n), round(data["robust_acc"] * n))
        result = cls(**values)
        _check_stated(result, data)
        return result

    def to_json(self, path: str | Path | None = None, *, samples: bool = True) -> str:
        text = json.dumps(self.to_dict(samples=samples), indent=2)
        if path is not None:
            Path(path).write_text(text + "\n")
        return text

    @classmethod
    def from_json(cls, path: str | Path) -> EvaluationResult:
        return cls.from_dict(json.loads(Path(path).read_text()))


def _check_stated(result: EvaluationResult, data: dict[str, Any]) -> None:
    """A record file whose stated accuracies or verdict disagree with what its own samples and flags give
    is damaged or edited: the samples and flags decide (they are what was measured), and the reader is
    told."""
    stated = data.get("verdict")
    if stated is not None and stated != result.verdict:
        warnings.warn(
            f"the record's stated verdict {stated!r} disagrees with its flags and diagnostics, which give "
            f"{result.verdict!r}; robench uses the flags",
            stacklevel=3,
        )
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


#: the JSON's order, as records have always had it: the verdict after the flags, the block size after the
#: batch size
_AFTER = {"flags": "verdict", "batch_size": "block_size"}


def _data_info(info: dict[str, Any], fingerprint: str) -> dict[str, Any]:
    """``data_info`` as the JSON keeps it: the key's fingerprint after the preprocessing."""
    items = list(info.items())
    return dict([*items[:2], ("fingerprint", fingerprint), *items[2:]])


def _read_data_info(data: dict[str, Any] | None) -> DataInfo | None:
    if not data:
        return None
    return DataInfo(**{k: v for k, v in data.items() if k != "fingerprint"})


def _stage(data: dict[str, Any]) -> StageResult:
    return StageResult(**{**data, "cost": Cost(**data.get("cost", {}))})


def _diagnostics(data: dict[str, Any] | None) -> DiagnosticsSummary | None:
    if data is None:
        return None
    checks = [CheckRun(c["check"], Cost(**c["cost"]), c["broken"]) for c in data.get("checks", [])]
    broken = {int(k): v for k, v in data.get("broken", {}).items()}
    return DiagnosticsSummary(checks, broken, int(data.get("sample_size", 0)))


@dataclass
class CertificationRecord(Keyed):
    """What ``robench certify`` measured (its ``--out`` JSON): the base model's certificates, one per
    bound, and apart from them the *smoothed* classifier's (a different classifier, never the base
    model's bracket). Its ``key`` is the evaluation key's points part (no suite: nothing was attacked)."""

    model: str
    key: PointsKey = field(metadata={"embedded": True})
    n: int
    clean_correct: int  # points the base model classifies correctly
    certificates: list[CertificateSummary] = field(default_factory=list)
    smoothed: list[SmoothedSummary] = field(default_factory=list)
    card: CardSummary | None = None
    env: dict[str, Any] = field(default_factory=dict)
    created: str = ""
    kind: str = "certification"
    schema_version: int = 1

    @property
    def clean_acc(self) -> float:
        return self.clean_correct / max(self.n, 1)

    def to_dict(self) -> dict[str, Any]:
        data = {"model": self.model}
        self.key.to_record(data)
        data |= {k: v for k, v in asdict(self).items() if k not in ("model", "key")}
        data["clean_acc"] = self.clean_acc
        data["certificates"] = [c.to_dict() for c in self.certificates]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CertificationRecord:
        values = {f.name: data[f.name] for f in fields(cls) if f.name in data}
        values["key"] = PointsKey.from_record(data)
        values["certificates"] = [CertificateSummary.from_dict(c) for c in data.get("certificates", [])]
        values["smoothed"] = [SmoothedSummary(**s) for s in data.get("smoothed", [])]
        values["card"] = CardSummary(**data["card"]) if data.get("card") else None
        return cls(**values)

    def to_json(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=2) + "\n")

    @classmethod
    def from_json(cls, path: str | Path) -> CertificationRecord:
        return cls.from_dict(json.loads(Path(path).read_text()))
