"""Per-point evaluation progress: what the engine persists, what a shard returns, what a record is built from.

Every decision is per point (status of each point in each stage), so outcomes of disjoint shards merge
exactly, and a resumed run continues from the last finished batch.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from robench.core.record import EvaluationResult, SampleResult, StageResult

# status of a point in a stage
PENDING, SURVIVED, BROKEN, REJECTED, FAILED = 0, 1, 2, 3, 4


@dataclass
class Cost:
    forward: int = 0
    backward: int = 0
    seconds: float = 0.0

    def add(self, forward: int, backward: int, seconds: float) -> None:
        self.forward += forward
        self.backward += backward
        self.seconds += seconds


@dataclass
class Outcome:
    config: dict[
        str, Any
    ]  # model, checkpoint_sha256, dataset, split, threat, eps, n, seed, subset_sha256, suite, mode
    indices: list[int]
    labels: list[int]
    clean_correct: list[bool] | None = None  # None until the clean pass is done
    status: list[list[int]] = field(default_factory=list)  # [stage][point]
    stage_cost: list[Cost] = field(default_factory=list)
    clean_cost: Cost = field(default_factory=Cost)
    no_graph: list[int] = field(default_factory=list)  # canonical indices whose input gradient is missing
    zero_grad: list[int] = field(default_factory=list)  # canonical indices whose input gradient is all zero
    rejected: list[dict[str, Any]] = field(default_factory=list)  # {stage, index, reason}
    nonfinite: list[dict[str, Any]] = field(default_factory=list)  # {stage, index}
    attack_errors: list[dict[str, Any]] = field(default_factory=list)  # {stage, indices, error}

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

    def needs_attack(self, stage: int, point: int) -> bool:
        """Whether this stage still has to attack this point (cascade: only points robust so far)."""
        if not self.clean_correct[point] or self.status[stage][point] != PENDING:
            return False
        if self.config["mode"] == "independent":
            return True
        return all(self.status[earlier][point] != BROKEN for earlier in range(stage))

    def is_robust(self, point: int) -> bool:
        return bool(self.clean_correct[point]) and all(s[point] != BROKEN for s in self.status)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Outcome:
        data = dict(data)
        data["stage_cost"] = [Cost(**c) for c in data["stage_cost"]]
        data["clean_cost"] = Cost(**data["clean_cost"])
        return cls(**data)

    def to_record(self, env: dict[str, Any], extra: dict[str, Any] | None = None) -> EvaluationResult:
        cfg, n = self.config, len(self.indices)
        independent = cfg["mode"] == "independent"
        names = self.stage_names
        stages = []
        for k, name in enumerate(names):
            col = self.status[k]
            if independent:
                still = sum(1 for i in range(n) if self.clean_correct[i] and col[i] != BROKEN)
            else:
                still = sum(
                    1
                    for i in range(n)
                    if self.clean_correct[i] and all(self.status[j][i] != BROKEN for j in range(k + 1))
                )
            cost = self.stage_cost[k]
            stages.append(
                StageResult(
                    attack=name,
                    robust_acc=still / n if n else 0.0,
                    attacked=sum(1 for s in col if s != PENDING),
                    broken=col.count(BROKEN),
                    forward=cost.forward,
                    backward=cost.backward,
                    seconds=round(cost.seconds, 4),
                    rejected=col.count(REJECTED),
                )
            )
        samples = []
        for i in range(n):
            first = next((names[k] for k in range(len(names)) if self.status[k][i] == BROKEN), None)
            samples.append(
                SampleResult(
                    index=self.indices[i],
                    label=self.labels[i],
                    clean_correct=bool(self.clean_correct[i]),
                    robust=self.is_robust(i),
                    broken_by=first,
                )
            )
        total = Cost()
        for cost in [self.clean_cost, *self.stage_cost]:
            total.add(cost.forward, cost.backward, cost.seconds)
        details = {
            "gradient_problems": {"no_graph": sorted(self.no_graph), "zero_grad": sorted(self.zero_grad)},
            "rejected": self.rejected,
            "nonfinite_logits": self.nonfinite,
            "attack_errors": self.attack_errors,
            "clean_cost": asdict(self.clean_cost),
            "total_cost": asdict(total),
            "eot_samples": cfg.get("eot_samples", 1),
        }
        return EvaluationResult(
            model=cfg["model"],
            checkpoint_sha256=cfg["checkpoint_sha256"],
            dataset=cfg["dataset"],
            split=cfg["split"],
            threat=cfg["threat"],
            eps=cfg["eps"],
            n=n,
            seed=cfg["seed"],
            subset_sha256=cfg["subset_sha256"],
            suite=cfg["suite"],
            mode=cfg["mode"],
            clean_acc=sum(map(bool, self.clean_correct)) / n if n else 0.0,
            robust_acc=sum(self.is_robust(i) for i in range(n)) / n if n else 0.0,
            stages=stages,
            samples=samples,
            env=env,
            created=datetime.now(UTC).isoformat(timespec="seconds"),
            extra={**details, **(extra or {})},
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
        (o.indices[i], o.labels[i], o.clean_correct[i], [col[i] for col in o.status])
        for o in outcomes
        for i in range(len(o.indices))
    )
    if len({r[0] for r in rows}) != len(rows):
        raise ValueError("shard outcomes overlap: a point was evaluated by more than one shard")
    merged = Outcome.start(base, [r[0] for r in rows], [r[1] for r in rows])
    merged.clean_correct = [r[2] for r in rows]
    merged.status = [[r[3][k] for r in rows] for k in range(len(merged.status))]
    for o in outcomes:
        merged.clean_cost.add(o.clean_cost.forward, o.clean_cost.backward, o.clean_cost.seconds)
        for total, part in zip(merged.stage_cost, o.stage_cost, strict=True):
            total.add(part.forward, part.backward, part.seconds)
        merged.no_graph += o.no_graph
        merged.zero_grad += o.zero_grad
        merged.rejected += o.rejected
        merged.nonfinite += o.nonfinite
        merged.attack_errors += o.attack_errors
    return merged
