"""Checked inputs and configuration of one evaluation, shared by ``evaluate``, ``evaluate_shard``,
``diagnose`` and the distributed evaluation (``PreparedEvaluation``)."""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from robench.attacks.base import Attack
from robench.core.counting import CountingModel
from robench.core.record import EvaluationResult
from robench.core.seeding import seeded_rng
from robench.data.base import ImageDataset
from robench.engine.outcome import Outcome
from robench.engine.runner import BLOCK_SIZE, run_all
from robench.engine.state import EvaluationState, FileState
from robench.errors import AttackError, RobenchError
from robench.models.wrapper import prepare_for_eval
from robench.threat import ThreatModel

PROBE_POINTS = 64  # points of the randomness probe (5 forwards each) before the suite
EOT_SAMPLES = 20  # as AutoAttack's rand version
SuiteLike = str | Path | Sequence[str | Attack] | Any


def auto_batch_size(input_shape: Sequence[int], device: str, n: int) -> int:
    """Documented heuristic: about 2^21 input values per batch on CPU (2^24 on CUDA), between 16 and 512
    (2048 on CUDA), never more than the number of points. CUDA out-of-memory halves it at run time."""
    numel = max(1, math.prod(input_shape))
    gpu = device.startswith("cuda")
    budget, cap = (2**24, 2048) if gpu else (2**21, 512)
    return max(1, min(n, cap, max(16, budget // numel)))


def resolve_device(device: str) -> str:
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise RobenchError(f"device '{device}' was requested but CUDA is not available (use --device cpu)")
    if not (device == "cpu" or device.startswith("cuda")):
        raise RobenchError(f"unknown device '{device}' (choose cpu or cuda)")
    return device


def check_threat(threat: ThreatModel, input_shape: Sequence[int]) -> None:
    """ThreatModel rejects eps <= 0 and linf eps > 1; an l2 eps beyond the box's diameter is meaningless."""
    diameter = math.sqrt(math.prod(input_shape))
    if threat.norm == "l2" and threat.eps > diameter:
        raise RobenchError(
            f"l2 eps {threat.eps:g} is larger than the diameter {diameter:.4g} of the [0,1] input range"
        )


def resolve_suite(
    suite: SuiteLike, threat: ThreatModel, eot_samples: int = 1
) -> tuple[dict[str, Any], list[Attack]]:
    """A suite name or file, a Suite object, or a list of attack specs / Attack objects.

    With ``eot_samples`` > 1 (a randomised model) gradient attacks given by spec average their gradients
    over that many forwards (EOT) and ``autoattack`` becomes ``autoattack-rand``.
    """
    if isinstance(suite, (str, Path)):
        from robench.attacks.suites import load_suite

        suite = load_suite(str(suite))
    if hasattr(suite, "attacks"):
        name, version, items = suite.name, suite.version, list(suite.attacks)
    else:
        name, version, items = "custom", None, list(suite)
    if not items:
        raise RobenchError(f"suite '{name}' has no attacks")
    attacks = [item if isinstance(item, Attack) else _build(str(item), threat, eot_samples) for item in items]
    info = {"name": name, "version": version, "attacks": [a.spec for a in attacks]}
    return info, attacks


def _build(spec: str, threat: ThreatModel, eot_samples: int) -> Attack:
    from robench.attacks import build_attack, parse_spec

    if eot_samples <= 1:
        return build_attack(spec, threat)
    family = parse_spec(spec).family
    if family == "autoattack":
        return build_attack("autoattack-rand", threat)
    if family in ("autoattack-rand", "square") or ":" in spec:
        return build_attack(spec, threat)
    try:
        return build_attack(spec, threat, eot_samples=eot_samples)
    except AttackError as exc:
        warnings.warn(f"{spec} runs without EOT on a randomised model: {exc}", stacklevel=3)
        return build_attack(spec, threat)


def as_state(state: EvaluationState | str | Path | None) -> EvaluationState | None:
    """An EvaluationState as given, or a FileState for a path."""
    if state is None or isinstance(state, EvaluationState):
        return state
    return FileState(state)


def shard_positions(n: int, rank: int, world: int, block_size: int = BLOCK_SIZE) -> list[int]:
    """Positions (in the evaluation subset) of shard ``rank`` of ``world``: whole blocks of block_size
    consecutive points, dealt round-robin (rank r takes blocks r, r + world, ...)."""
    if world < 1 or not 0 <= rank < world:
        raise RobenchError(f"shard {rank} of {world} does not exist")
    blocks = range(rank, -(-n // block_size), world)
    return [p for b in blocks for p in range(b * block_size, min(n, (b + 1) * block_size))]


class PreparedEvaluation:
    """One evaluation's checked inputs, counted model, randomness probe, attacks and configuration.

    The keyword arguments are ``evaluate``'s (without ``diagnostics`` and ``state``).
    """

    def __init__(
        self, model: nn.Module, dataset: ImageDataset, threat: ThreatModel, *, suite: SuiteLike = "standard",
        n: int | None = None, seed: int = 0, batch_size: int | None = None, device: str = "cpu",
        independent: bool = False, model_name: str = "model", checkpoint_sha256: str | None = None,
        block_size: int = BLOCK_SIZE,
    ) -> None:  # fmt: skip
        self.device = resolve_device(device)
        self.threat = threat
        self.data = dataset.subset(n, seed)
        check_threat(threat, self.data.input_shape)
        if batch_size is not None and batch_size < 1:
            raise RobenchError(f"--batch-size must be positive, got {batch_size}")
        if block_size < 1:
            raise RobenchError(f"the block size must be positive, got {block_size}")
        self.block_size = block_size
        self.batch_size = batch_size or auto_batch_size(self.data.input_shape, self.device, len(self.data))
        self.counted = CountingModel(prepare_for_eval(model).to(self.device))
        self.seed = seed
        self.randomness, self.eot_samples = self._probe_randomness()
        self.suite, self.attacks = resolve_suite(suite, threat, self.eot_samples)
        self.config = {
            "model": model_name,
            "checkpoint_sha256": checkpoint_sha256,
            "dataset": dataset.name,
            "split": dataset.split,
            "threat": threat.norm,
            "eps": float(threat.eps),
            "n": len(self.data),
            "seed": int(seed),
            "subset_sha256": self.data.subset_sha256(),
            "suite": self.suite,
            "mode": "independent" if independent else "cascade",
            "eot_samples": self.eot_samples,
            "block_size": block_size,
        }

    @property
    def randomized(self) -> bool:
        """The probe found the model randomised: the evaluation runs with EOT and seeds its RNG per call."""
        return self.eot_samples > 1

    def _probe_randomness(self):
        """Repeated forwards on a few points (robench.diagnostics): a randomised model needs EOT attacks.

        Run in a seeded RNG fork: the decision is reproducible and the caller's generator untouched."""
        from robench.diagnostics import probe_randomness

        start = self.counted.count()
        with seeded_rng(self.device, self.seed, "probe"):
            probe = probe_randomness(self.counted, self.data.images[:PROBE_POINTS].to(self.device))
        self.probe_cost = self.counted.count() - start
        if probe.randomized:
            warnings.warn(
                f"the model's outputs change between identical forwards; attacks use EOT over {EOT_SAMPLES} "
                "samples",
                stacklevel=3,
            )
        return probe, EOT_SAMPLES if probe.randomized else 1

    def extra(self) -> dict[str, Any]:
        """The record's ``extra`` entries that come from the preparation, not from the outcome."""
        probe = self.randomness
        return {
            "batch_size": self.batch_size,
            "randomness_probe": {
                "randomized": probe.randomized,
                "points": probe.points,
                "forward": self.probe_cost.forward,
            },
        }

    def run(self, state: EvaluationState | None, shard: tuple[int, int] | None = None) -> Outcome:
        """The suite on every point or on shard ``(rank, world)``; resumes from ``state``, never clears it."""
        data, config = self.data, self.config
        positions = list(range(len(self.data)))
        if shard is not None:
            positions = shard_positions(len(self.data), *shard, self.block_size)
            data = self.data.take(torch.tensor(positions, dtype=torch.long))
            config = {**config, "shard": list(shard)}
        outcome = None
        saved = state.load() if state is not None else None
        if saved is not None:
            if saved.get("config") == config:
                outcome = Outcome.from_dict(saved)
            else:
                warnings.warn(
                    "saved evaluation state belongs to a different evaluation; starting afresh", stacklevel=3
                )
        if outcome is None:
            outcome = Outcome.start(config, data.indices.tolist(), data.labels.tolist())
        return run_all(
            self.counted,
            data,
            self.threat,
            self.attacks,
            outcome,
            seed=self.seed,
            batch_size=self.batch_size,
            device=self.device,
            state=state,
            blocks=[p // self.block_size for p in positions],
            randomized=self.randomized,
        )

    def diagnose(self, result: EvaluationResult) -> EvaluationResult:
        """robench.diagnostics on the whole evaluation's record (extra breaks, flags, verdict folded in)."""
        from robench.diagnostics import DiagnosticContext, run_diagnostics

        problems = result.extra["gradient_problems"]
        troubled = set(problems["no_graph"]) | set(problems["zero_grad"])
        indices = self.data.indices.tolist()
        ctx = DiagnosticContext(
            model=self.counted, data=self.data, threat=self.threat, result=result, device=self.device,
            seed=self.seed, batch_size=self.batch_size, block_size=self.block_size,
            randomness=self.randomness, eot=self.randomized, attacks=list(self.attacks),
            unusable_gradients=torch.tensor([i in troubled for i in indices], dtype=torch.bool),
        )  # fmt: skip
        if not self.randomized:
            run_diagnostics(ctx)
            return result
        with seeded_rng(self.device, self.seed, "diagnostics"):  # their attacks also seed per chunk
            run_diagnostics(ctx)
        return result
