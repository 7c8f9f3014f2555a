"""Per-point evaluation progress: what the engine persists, what a shard returns, what a record is built from.

Every decision is per point (status of each point in each stage), so outcomes of disjoint shards merge
exactly, and a resumed run continues from the last finished batch.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from robench.core.cost import Cost
from robench.core.identity import EvaluationKey
from robench.core.record import EvaluationResult, Problems, SampleResult, StageResult

# status of a point in a stage
PENDING, SURVIVED, BROKEN, REJECTED, FAILED = 0, 1, 2, 3, 4


#: the fields that say which evaluation an outcome belongs to: a resumed state must match them, shards
#: must agree on them (but for ``shard``)
IDENTITY = ("key", "model", "n", "suite", "eot_samples", "shard")


@dataclass
class Outcome:
    key: EvaluationKey  # the evaluation's identity, created once (robench.engine.identity.evaluation_key_of)
    model: str  # the record's name for the model
    n: int  # points of the whole evaluation (a shard holds some of them)
    suite: dict[str, Any]  # the suite as it runs: attacks (as built), definition (the record's suite_content)
    eot_samples: int  # gradient samples per attack step the probe chose (1: a deterministic model)
    indices: list[int]
    labels: list[int]
    shard: list[int] | None = None  # [rank, world] of a shard's outcome
    clean_correct: list[bool] | None = None  # None until the clean pass is done
    status: list[list[int]] = field(default_factory=list)  # [stage][point]
    stage_cost: list[Cost] = field(default_factory=list)
    clean_cost: Cost = field(default_factory=Cost)
    problems: Problems = field(default_factory=Problems)
    #: per point, the smallest logit margin a stage's verified output reached (None: none yet)
    margin: list[float | None] = field(default_factory=list)

    def __post_init__(self) -> None:
        if len(self.margin) != len(self.indices):  # a state saved before margins were kept
            self.margin = [None] * len(self.indices)

    def note_margin(self, point: int, value: float) -> None:
        """Keep the smallest margin seen at this point (NaN, from a rejected output, is ignored)."""
        if value == value and (self.margin[point] is None or value < self.margin[point]):
            self.margin[point] = value

    @classmethod
    def start(cls, indices: list[int], labels: list[int], **identity: Any) -> Outcome:
        """A fresh outcome of these points; ``identity``: the ``IDENTITY`` fields."""
        stages = len(identity["suite"]["attacks"])
        return cls(
            indices=list(indices),
            labels=list(labels),
            status=[[PENDING] * len(indices) for _ in range(stages)],
            stage_cost=[Cost() for _ in range(stages)],
            **identity,
        )

    def identity(self) -> dict[str, Any]:
        """The ``IDENTITY`` fields as JSON holds them (what ``same_evaluation`` compares)."""
        return json.loads(json.dumps({name: _plain(getattr(self, name)) for name in IDENTITY}))

    @property
    def stage_names(self) -> list[str]:
        return list(self.suite["attacks"])

    @property
    def independent(self) -> bool:
        return self.key.mode == "independent"

    def needs_attack(self, stage: int, point: int) -> bool:
        """Whether this stage still has to attack this point (cascade: only points robust so far)."""
        if not self.clean_correct[point] or self.status[stage][point] != PENDING:
            return False
        return self.independent or all(self.status[earlier][point] != BROKEN for earlier in range(stage))

    def robust_after(self, point: int, stages: int) -> bool:
        """Clean-correct and not broken by the first ``stages`` stages."""
        return bool(self.clean_correct[point]) and all(s[point] != BROKEN for s in self.status[:stages])

    def is_robust(self, point: int) -> bool:
        return self.robust_after(point, len(self.status))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Outcome:
        data = dict(data)
        data["key"] = EvaluationKey(**data["key"])
        data["stage_cost"] = [Cost(**c) for c in data["stage_cost"]]
        data["clean_cost"] = Cost(**data["clean_cost"])
        data["problems"] = Problems.from_dict(data["problems"])
        return cls(**data)

    def stage_rows(self) -> list[StageResult]:
        """One row per stage: robust accuracy after it (cumulative; independent: its own), counts, cost."""
        n, rows = len(self.indices), []
        for k, name in enumerate(self.stage_names):
            column = self.status[k]
            if self.independent:
                still = sum(1 for i in range(n) if self.clean_correct[i] and column[i] != BROKEN)
            else:
                still = sum(1 for i in range(n) if self.robust_after(i, k + 1))
            rows.append(
                StageResult(
                    attack=name,
                    robust_acc=still / n if n else 0.0,
                    attacked=sum(1 for s in column if s != PENDING),
                    broken=column.count(BROKEN),
                    cost=self.stage_cost[k].rounded(),
                    rejected=column.count(REJECTED),
                )
            )
        return rows

    def sample_rows(self) -> list[SampleResult]:
        names = self.stage_names
        return [
            SampleResult(
                index=self.indices[i],
                label=self.labels[i],
                clean_correct=bool(self.clean_correct[i]),
                robust=self.is_robust(i),
                broken_by=next((names[k] for k in range(len(names)) if self.status[k][i] == BROKEN), None),
                margin=self.margin[i],
            )
            for i in range(len(self.indices))
        ]

    def to_record(self, env: dict[str, Any], **details: Any) -> EvaluationResult:
        """The record of this outcome, which embeds its key; ``details`` fills the record fields the
        outcome does not hold (probe, batch_size, data_info)."""
        return EvaluationResult(
            model=self.model,
            key=self.key,
            suite_content=dict(self.suite),
            stages=self.stage_rows(),
            samples=self.sample_rows(),
            clean_cost=self.clean_cost,
            problems=self.problems.copy(),
            eot_samples=self.eot_samples,
            env=env,
            created=datetime.now(UTC).isoformat(timespec="seconds"),
            **details,
        )


def same_evaluation(saved: dict[str, Any], outcome: Outcome, *, but: tuple[str, ...] = ()) -> bool:
    """Whether a saved outcome (``to_dict``) belongs to the same evaluation as ``outcome``."""
    mine = outcome.identity()
    return all(saved.get(name) == mine[name] for name in IDENTITY if name not in but)


def _plain(value: Any) -> Any:
    return asdict(value) if hasattr(value, "__dataclass_fields__") else value


def merge_outcomes(outcomes: list[Outcome]) -> Outcome:
    """Combine the outcomes of disjoint shards (same evaluation) into one, ordered by canonical index."""
    if not outcomes:
        raise ValueError("no shard outcomes to merge")
    first = outcomes[0]
    if not all(same_evaluation(o.identity(), first, but=("shard",)) for o in outcomes[1:]):
        raise ValueError("shard outcomes come from different evaluation configurations")
    if any(o.clean_correct is None for o in outcomes):
        raise ValueError("a shard outcome is incomplete (its clean pass has not run)")
    rows = sorted(
        (o.indices[i], o.labels[i], o.clean_correct[i], [col[i] for col in o.status], o.margin[i])
        for o in outcomes
        for i in range(len(o.indices))
    )
    if len({r[0] for r in rows}) != len(rows):
        raise ValueError("shard outcomes overlap: a point was evaluated by more than one shard")
    identity = {name: getattr(first, name) for name in IDENTITY if name != "shard"}
    merged = Outcome.start([r[0] for r in rows], [r[1] for r in rows], **identity)
    merged.clean_correct = [r[2] for r in rows]
    merged.status = [[r[3][k] for r in rows] for k in range(len(merged.status))]
    merged.margin = [r[4] for r in rows]
    for o in outcomes:
        merged.clean_cost += o.clean_cost
        merged.stage_cost = [
            total + part for total, part in zip(merged.stage_cost, o.stage_cost, strict=True)
        ]
        merged.problems.merge(o.problems)
    return merged
