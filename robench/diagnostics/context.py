"""What the engine hands to the diagnostics, and what it gets back.

The engine builds a :class:`DiagnosticContext` from the finished suite's record and calls
``run_diagnostics(ctx)``, which folds its :class:`DiagnosticsReport` into that record
(``report.apply_to``): extra points broken by the diagnostics' own verified attacks (BPDA, noise,
black-box, extra restarts) lower the worst case, a "diagnostics" stage row carries their cost (per-check
breakdown in ``extra["diagnostics"]``), and the flags and verdict are set. All masks here are over the n
evaluated points, in the result's sample order, on CPU.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import torch
from torch import nn

from robench.core.counting import CountingModel
from robench.core.randomness import RandomnessProbe
from robench.core.record import EvaluationResult, Flag, StageResult
from robench.core.seeding import point_seeds, sample_generator
from robench.data.base import ImageDataset
from robench.engine.runner import BLOCK_SIZE
from robench.threat import ThreatModel

#: default bound on the points an expensive check attacks (documented in the README)
SAMPLE_SIZE = 64
ATTACK_SAMPLE_SIZE = 32  # the costliest checks (black-box, extra restarts) on honest-looking models
EOT_SAMPLES = 5  # at most this many EOT samples in the diagnostics' own attacks (cost: that many x)
MASKING_CODES = ("zero_gradients", "unbounded_attack_fails", "probabilities_output", "randomized_model")
SEED_STAGE = 1000  # diagnostics' seeds use stage positions from here on, far beyond any suite's


@dataclass
class DiagnosticContext:
    """The finished suite's record plus what is needed to attack again; built by the engine."""

    model: nn.Module  # the evaluated model (wrapped here in a CountingModel of its own)
    data: ImageDataset  # the evaluated points, in the order of ``result.samples``
    threat: ThreatModel
    result: EvaluationResult  # the suite's record; run_diagnostics folds its extra breaks into it
    device: str | torch.device = "cpu"
    seed: int = 0
    batch_size: int = 256
    block_size: int = BLOCK_SIZE  # per-call-random attacks run on chunks of this many points (as the engine)
    randomness: RandomnessProbe | None = None  # the engine's pre-suite probe, if it ran one
    eot: bool = False  # whether the suite ran with EOT (randomised model)
    unusable_gradients: torch.Tensor | None = None  # bool per point, if the engine recorded any
    attacks: list[Any] | None = None  # the suite's Attack objects as the engine ran them, if known
    sample_size: int = SAMPLE_SIZE
    cache: dict[str, Any] = field(default_factory=dict)  # facts shared between checks
    flags: list[Flag] = field(default_factory=list)  # flags raised so far (later checks may escalate)
    extra_broken: dict[int, str] = field(default_factory=dict)  # canonical index -> stage that broke it

    def __post_init__(self) -> None:
        if not isinstance(self.model, CountingModel):
            self.model = CountingModel(self.model).train(self.model.training)
        samples = self.result.samples
        self.indices = self.data.indices.cpu()
        if [s.index for s in samples] != self.indices.tolist():
            raise ValueError("the result's samples and the data are not the same points in the same order")
        self.x = self.data.images.to(self.device)
        self.y = self.data.labels.to(self.device)
        self.clean_correct = torch.tensor([s.clean_correct for s in samples], dtype=torch.bool)
        self.robust = torch.tensor([s.robust for s in samples], dtype=torch.bool)  # updated by the checks
        self.broken_by = [s.broken_by for s in samples]
        self.stages = list(self.result.stages)
        self.suite_attacks = list(self.result.suite.get("attacks", []))
        self.mode = self.result.mode

    @property
    def attack_settings(self) -> dict[str, Any]:
        """Settings for gradient attacks: EOT (capped at EOT_SAMPLES) when the suite used it."""
        return (
            {"eot_samples": min(int(self.result.extra.get("eot_samples") or EOT_SAMPLES), EOT_SAMPLES)}
            if self.eot
            else {}
        )

    @property
    def randomized(self) -> bool:
        return self.randomness is not None and self.randomness.randomized

    @property
    def masking_suspected(self) -> bool:
        """An earlier check found the gradients unusable: escalate the gradient-free effort."""
        return any(flag.code in MASKING_CODES for flag in self.flags)

    @property
    def n(self) -> int:
        return int(self.indices.shape[0])

    def accuracy(self, mask: torch.Tensor) -> float:
        """A count of points as a fraction of all n evaluated points (how robench reports accuracy)."""
        return int(mask.sum()) / max(self.n, 1)

    def sample(self, mask: torch.Tensor, limit: int | None = None, salt: int = 0) -> torch.Tensor:
        """Up to ``limit`` positions where mask holds, chosen by the evaluation seed, in canonical order."""
        positions = mask.nonzero().flatten()
        limit = self.sample_size if limit is None else limit
        if positions.numel() > limit:
            generator = sample_generator(self.seed, salt)
            positions = positions[torch.randperm(positions.numel(), generator=generator)[:limit]]
            positions = positions.sort().values
        return positions

    def salted_seeds(self, positions: torch.Tensor, salt: int) -> torch.Tensor:
        """Per-point seeds unlike any of the suite's stages, so extra restarts really are new ones."""
        indices = self.indices[positions].tolist()
        return point_seeds(self.seed, indices, SEED_STAGE + salt)

    def mark_broken(self, positions: torch.Tensor, broken: torch.Tensor, by: str) -> int:
        """Record verified extra breaks (``broken`` is a bool per position); returns how many were new."""
        new = 0
        for position in positions[broken.cpu()].tolist():
            if self.robust[position]:
                self.robust[position] = False
                self.broken_by[position] = by
                self.extra_broken[int(self.indices[position])] = by
                new += 1
        return new


@dataclass
class CheckCost:
    check: str
    forward: int
    backward: int
    seconds: float
    broken: int  # extra points this check broke (verified), folded into the worst case


@dataclass
class DiagnosticsReport:
    flags: list[Flag]
    costs: list[CheckCost]
    broken: dict[int, str]  # canonical index -> extra stage that broke it

    def __iter__(self):
        return iter(self.flags)

    @property
    def verdict(self) -> str:
        from robench.diagnostics.verdict import verdict

        return verdict(self.flags)

    def apply_to(self, result: EvaluationResult) -> EvaluationResult:
        """Fold extra breaks into the worst case, add one "diagnostics" stage row, flags and verdict."""
        if "diagnostics" in result.extra:
            raise ValueError("diagnostics were already applied to this result")
        for sample in result.samples:
            if sample.robust and sample.index in self.broken:
                sample.robust = False
                sample.broken_by = self.broken[sample.index]
        n = max(len(result.samples), 1)
        result.robust_acc = sum(s.robust for s in result.samples) / n
        forward, backward = sum(c.forward for c in self.costs), sum(c.backward for c in self.costs)
        result.stages.append(
            StageResult(
                attack="diagnostics",
                robust_acc=result.robust_acc,
                attacked=sum(1 for s in result.samples if s.clean_correct),
                broken=len(self.broken),
                forward=forward,
                backward=backward,
                seconds=sum(c.seconds for c in self.costs),
            )
        )
        result.flags = list(self.flags)
        result.verdict = self.verdict
        result.extra["diagnostics"] = {
            "costs": [asdict(c) for c in self.costs],
            "broken": {str(k): v for k, v in self.broken.items()},
            "sample_size": SAMPLE_SIZE,
        }
        return result
