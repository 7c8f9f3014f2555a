"""Per-point evaluation progress: what the engine persists, what a shard returns, what a record is built from.

Every decision is per point (status of each point in each stage), so outcomes of disjoint shards merge
exactly, and a resumed run continues from the last finished batch.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from robench.core.cost import Cost
from robench.core.record import (
    AttackFailure,
    EvaluationResult,
    GradientProblems,
    NonFinite,
    Problems,
    Rejection,
    SampleResult,
    StageResult,
)

# status of a point in a stage
PENDING, SURVIVED, BROKEN, REJECTED, FAILED = 0, 1, 2, 3, 4


@dataclass
class Outcome:
    config: dict[str, Any]  # the evaluation's identity (engine.identity.evaluation_config)
    indices: list[int]
    labels: list[int]
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
    def start(cls, config: dict[str, Any], indices: list[int], labels: list[int]) -> Outcome:
        stages = len(config["suite"]["attacks"])
        return cls(
            config=config,
            indices=list(indices),
            labels=list(labels),
            status=[[PENDING] * len(indices) for _ in range(stages)],
            stage_cost=[Cost() for _ in range(stages)],
        )

    @property
    def stage_names(self) -> list[str]:
        return list(self.config["suite"]["attacks"])

    @property
    def independent(self) -> bool:
        return self.config["mode"] == "independent"

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
        data["stage_cost"] = [Cost(**c) for c in data["stage_cost"]]
        data["clean_cost"] = Cost(**data["clean_cost"])
        problems = data["problems"]
        data["problems"] = Problems(
            rejected=[Rejection(**r) for r in problems["rejected"]],
            attack_errors=[AttackFailure(**e) for e in problems["attack_errors"]],
            nonfinite_logits=[NonFinite(**e) for e in problems["nonfinite_logits"]],
            gradients=GradientProblems(**problems["gradients"]),
        )
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
        """The record of this outcome; ``details`` fills the record fields the outcome does not hold
        (probe, batch_size, extra)."""
        cfg = self.config
        problems = Problems(
            rejected=list(self.problems.rejected),
            attack_errors=list(self.problems.attack_errors),
            nonfinite_logits=list(self.problems.nonfinite_logits),
            gradients=GradientProblems(*(sorted(v) for v in vars(self.problems.gradients).values())),
        )
        return EvaluationResult(
            model=cfg["model"],
            checkpoint_sha256=cfg["checkpoint_sha256"],
            dataset=cfg["dataset"],
            split=cfg["split"],
            threat=cfg["threat"],
            eps=cfg["eps"],
            seed=cfg["seed"],
            subset_sha256=cfg["subset_sha256"],
            suite=cfg["suite"],
            mode=cfg["mode"],
            stages=self.stage_rows(),
            samples=self.sample_rows(),
            clean_cost=self.clean_cost,
            problems=problems,
            eot_samples=cfg["eot_samples"],
            block_size=cfg["block_size"],
            env=env,
            created=datetime.now(UTC).isoformat(timespec="seconds"),
            **details,
        )


def merge_outcomes(outcomes: list[Outcome]) -> Outcome:
    """Combine the outcomes of disjoint shards (same configuration) into one, ordered by canonical index."""
    if not outcomes:
        raise ValueError("no shard outcomes to merge")
    base = {k: v for k, v in outcomes[0].config.items() if k != "shard"}
    for other in outcomes[1:]:
        if {k: v for k, v in other.config.items() if k != "shard"} != base:
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
    merged = Outcome.start(base, [r[0] for r in rows], [r[1] for r in rows])
    merged.clean_correct = [r[2] for r in rows]
    merged.status = [[r[3][k] for r in rows] for k in range(len(merged.status))]
    merged.margin = [r[4] for r in rows]
    for o in outcomes:
        merged.clean_cost += o.clean_cost
        merged.stage_cost = [
            total + part for total, part in zip(merged.stage_cost, o.stage_cost, strict=True)
        ]
        _extend(merged.problems, o.problems)
    return merged


def _extend(into: Problems, other: Problems) -> None:
    into.rejected += other.rejected
    into.attack_errors += other.attack_errors
    into.nonfinite_logits += other.nonfinite_logits
    for name, values in vars(other.gradients).items():
        getattr(into.gradients, name).extend(values)
