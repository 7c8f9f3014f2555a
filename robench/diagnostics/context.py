"""What the pipeline hands to the diagnostics, and what it gets back.

The pipeline builds a :class:`DiagnosticContext` from the finished suite's record and calls
``run_diagnostics(ctx)``, which folds its :class:`DiagnosticsReport` into that record
(``report.apply_to``): extra points broken by the diagnostics' own verified attacks (BPDA, noise,
black-box, extra restarts) lower the worst case, ``result.diagnostics`` carries each check's cost and
the extra breaks, and the flags and verdict are set. All masks here are over the n evaluated points, in
the result's sample order, on CPU. Every random draw of a check (which points it samples, its attacks'
random starts) is seeded from the evaluation seed and the draw's name (``robench.core.seeding.salt``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from robench.core.counting import CountingModel
from robench.core.randomness import RandomnessProbe
from robench.core.record import CheckRun, DiagnosticsSummary, EvaluationResult, Flag
from robench.core.seeding import STAGE_BASE, point_seeds, salt, sample_generator
from robench.data.base import ImageDataset
from robench.diagnostics.verdict import verdict
from robench.engine.settings import BLOCK_SIZE
from robench.threat import ThreatModel

if TYPE_CHECKING:
    from robench.diagnostics.tools import GradientStatus

#: default bound on the points an expensive check attacks (docs/diagnostics.md)
SAMPLE_SIZE = 64
ATTACK_SAMPLE_SIZE = 32  # the costliest checks (black-box, extra restarts) on honest-looking models
DIAGNOSTIC_EOT_CAP = 5  # at most this many EOT samples in the diagnostics' own attacks (cost: that many x)
MASKING_CODES = ("zero_gradients", "unbounded_attack_fails", "probabilities_output", "randomized_model")
SEED_STAGE = STAGE_BASE["diagnostics"]


@dataclass
class DiagnosticContext:
    """The finished suite's record plus what is needed to attack again; built by the pipeline."""

    model: nn.Module  # the evaluated model (wrapped here in a CountingModel of its own)
    data: ImageDataset  # the evaluated points, in the order of ``result.samples``
    threat: ThreatModel
    result: EvaluationResult  # the suite's record; run_diagnostics folds its extra breaks into it
    device: str | torch.device = "cpu"
    seed: int = 0
    batch_size: int = 256
    block_size: int = BLOCK_SIZE  # per-call-random attacks run on chunks of this many points (as the engine)
    randomness: RandomnessProbe | None = None  # the engine's pre-suite probe, if it ran one
    unusable_gradients: torch.Tensor | None = None  # bool per point, if the engine recorded any
    attacks: list[Any] | None = None  # the suite's Attack objects as the engine ran them, if known
    sample_size: int = SAMPLE_SIZE
    flags: list[Flag] = field(default_factory=list)  # flags raised so far (later checks may escalate)
    extra_broken: dict[int, str] = field(default_factory=dict)  # canonical index -> stage that broke it
    # derived from the record and the data (``__post_init__``), over the n points in sample order
    indices: torch.Tensor = field(init=False)  # canonical indices (CPU)
    x: torch.Tensor = field(init=False)  # images, on the device
    y: torch.Tensor = field(init=False)  # labels, on the device
    clean_correct: torch.Tensor = field(init=False)  # bool (CPU)
    robust: torch.Tensor = field(init=False)  # bool (CPU), updated by the checks' verified breaks
    broken_by: list[str | None] = field(init=False)  # the stage or check that broke each point
    suite_attacks: list[str] = field(init=False)  # the suite's attack specs as built
    # what checks share, computed once when first asked for (``clean_logits``, ``gradients``)
    _clean_logits: torch.Tensor | None = field(default=None, init=False, repr=False)
    _gradients: dict[str, GradientStatus] = field(default_factory=dict, init=False, repr=False)
    _seeded_calls: int = field(default=0, init=False, repr=False)

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
        self.robust = torch.tensor([s.robust for s in samples], dtype=torch.bool)
        self.broken_by = [s.broken_by for s in samples]
        self.suite_attacks = list(self.result.suite.get("attacks", []))

    def next_seeded_call(self) -> int:
        """The number of the next seeded call (``tools.seeded_call``): 0, 1, 2, ... in the checks' order."""
        self._seeded_calls += 1
        return self._seeded_calls - 1

    def clean_logits(self) -> torch.Tensor:
        """Logits (CPU) of all n points on clean input, computed once per evaluation."""
        if self._clean_logits is None:
            from robench.diagnostics.tools import forward_batch, predict, seeded_call

            with seeded_call(self):
                self._clean_logits = predict(self.model, self.x, forward_batch(self))
        return self._clean_logits

    def gradients(self, loss: str = "ce") -> GradientStatus:
        """Input-gradient status of the clean-correct points for ``loss`` (others: all False), computed once.
        The cross-entropy's is the engine's clean-pass record (no pass spent); another loss is computed only
        at the points whose cross-entropy gradient is unusable (where a check needs it)."""
        if loss not in self._gradients:
            from robench.diagnostics.tools import loss_gradients, recorded_ce_gradients

            self._gradients[loss] = (
                recorded_ce_gradients(self) if loss == "ce" else loss_gradients(self, loss)
            )
        return self._gradients[loss]

    @property
    def eot(self) -> bool:
        """Whether the suite ran with EOT (a randomised model)."""
        return self.result.eot_samples > 1

    @property
    def attack_settings(self) -> dict[str, Any]:
        """Settings for gradient attacks: EOT (capped at DIAGNOSTIC_EOT_CAP) when the suite used it."""
        return {"eot_samples": min(self.result.eot_samples, DIAGNOSTIC_EOT_CAP)} if self.eot else {}

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

    def sample(self, mask: torch.Tensor, draw: str, limit: int | None = None) -> torch.Tensor:
        """Up to ``limit`` positions where mask holds, chosen by the evaluation seed and the draw's name,
        in canonical order."""
        positions = mask.nonzero().flatten()
        limit = self.sample_size if limit is None else limit
        if positions.numel() > limit:
            generator = sample_generator(self.seed, salt(draw))
            positions = positions[torch.randperm(positions.numel(), generator=generator)[:limit]]
            positions = positions.sort().values
        return positions

    def point_seeds(self, positions: torch.Tensor, draw: str) -> torch.Tensor:
        """Per-point seeds of a named draw, unlike any of the suite's stages (so restarts are new ones)."""
        return point_seeds(self.seed, self.indices[positions].tolist(), SEED_STAGE + salt(draw))

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
class DiagnosticsReport:
    flags: list[Flag]
    checks: list[CheckRun]
    broken: dict[int, str]  # canonical index -> extra stage that broke it

    def __iter__(self):
        return iter(self.flags)

    @property
    def verdict(self) -> str:
        return verdict(self.flags)

    def apply_to(self, result: EvaluationResult) -> EvaluationResult:
        """Fold extra breaks into the worst case; record the checks' costs and the flags (the verdict
        follows from them)."""
        if result.diagnostics is not None:
            raise ValueError("diagnostics were already applied to this result")
        for sample in result.samples:
            if sample.robust and sample.index in self.broken:
                sample.robust = False
                sample.broken_by = self.broken[sample.index]
        result.diagnostics = DiagnosticsSummary(list(self.checks), dict(self.broken), SAMPLE_SIZE)
        result.flags = list(self.flags)
        return result
