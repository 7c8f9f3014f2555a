"""One evaluation's checked inputs: the subset, the counted model, the randomness probe, the attacks as
built and the evaluation's identity; ``run`` the cascade on every point or on one shard."""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from robench.attacks.base import Attack
from robench.attacks.suites import Suite, load_suite
from robench.core.counting import CountingModel
from robench.core.identity import EvaluationKey
from robench.core.randomness import PROBE_POINTS, RandomnessProbe, probe_randomness
from robench.core.record import DataInfo, ProbeSummary
from robench.core.seeding import seeded_rng
from robench.data.base import ImageDataset
from robench.engine.identity import evaluation_key_of, evaluation_points, suite_description
from robench.engine.memory import MemoryPlan, memory_plan
from robench.engine.outcome import Outcome, same_evaluation
from robench.engine.runner import RunContext, run_all, run_points
from robench.engine.settings import RunSettings
from robench.engine.state import EvaluationState
from robench.errors import AttackError, RobenchError
from robench.models.wrapper import prepare_for_eval
from robench.threat import ThreatModel

SUITE_EOT_SAMPLES = 20  # gradient samples per step on a randomised model, as AutoAttack's rand version
SuiteLike = str | Path | Sequence[str | Attack] | Any


def auto_batch_size(input_shape: Sequence[int], device: str, n: int) -> int:
    """Documented heuristic: about 2^21 input values per batch on CPU (2^24 on CUDA), between 16 and 512
    (2048 on CUDA), never more than the number of points; the evaluation then lowers it to what fits in
    the free memory (robench.engine.memory). CUDA out-of-memory halves it at run time."""
    numel = max(1, math.prod(input_shape))
    gpu = device.startswith("cuda")
    budget, cap = (2**24, 2048) if gpu else (2**21, 512)
    return max(1, min(n, cap, max(16, budget // numel)))


def batch_plan(given: int | None, model: nn.Module, points: ImageDataset, device: str) -> MemoryPlan:
    """The batch size, resolved once for every consumer of an evaluation (the attacks, the diagnostics,
    the certificates): ``--batch-size`` when given, else ``auto_batch_size`` lowered to what fits in the
    free memory (robench.engine.memory). Attacks with per-call randomness, and every stage on a randomised
    model, still run a whole block of ``block_size`` points per call: their results never depend on it."""
    if given is not None:
        return MemoryPlan(given)
    limit = auto_batch_size(points.input_shape, device, len(points))
    return memory_plan(model, points.input_shape, device, limit)


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


def check_outputs(model: nn.Module, data: ImageDataset, device: str) -> None:
    """``check_parameters``, then ``check_logits`` on a forward of two points (in a seeded RNG fork): for
    an entry point that runs no randomness probe (certify). The engine checks the probe's forwards."""
    check_parameters(model)
    x = data.images[:2].to(device)
    with torch.no_grad(), seeded_rng(device, 0, "outputs"):
        check_logits(model(x), len(x), classes_needed(data))


def check_parameters(model: nn.Module) -> None:
    """A float64 model is one RobenchError before its first forward (robench feeds float32 images)."""
    if any(p.dtype == torch.float64 for p in model.parameters()):
        raise RobenchError(
            "the model's parameters are torch.float64 but robench feeds float32 images in [0, 1]; convert "
            "it with model.float()"
        )


def classes_needed(data: ImageDataset) -> int:
    """Logits a model needs for these points: a column for every label, and at least two."""
    return max(int(data.labels.max()) + 1 if len(data) else 0, 2)


def check_logits(out: Any, rows: int, classes: int) -> None:
    """A model's answer to ``rows`` images must be floating-point logits of shape (rows, >= classes): a
    tuple, a dict, a 1-D tensor, integer outputs or a wrong number of rows are one RobenchError each."""
    if not isinstance(out, torch.Tensor):
        raise RobenchError(
            f"the model returns a {type(out).__name__} for a batch of images, not a tensor of logits; make "
            "its forward return the logits (one row per image)"
        )
    if out.dim() != 2 or out.shape[0] != rows:
        raise RobenchError(
            f"the model returns a tensor of shape {tuple(out.shape)} for {rows} images, not logits of shape "
            f"({rows}, classes)"
        )
    if not out.is_floating_point():
        raise RobenchError(f"the model returns {out.dtype} outputs, not floating-point logits")
    if out.shape[1] < classes:
        raise RobenchError(
            f"the model returns {out.shape[1]} logits per image but the labels need at least {classes}"
        )


def resolve_suite(
    suite: SuiteLike, threat: ThreatModel, eot_samples: int = 1, trust_code: bool = False
) -> tuple[dict[str, Any], list[Attack]]:
    """A suite name or file, a Suite object, or a list of attack specs / Attack objects: the record's
    ``suite`` (``suite_description`` with the attacks as built) and the attacks.

    With ``eot_samples`` > 1 (a randomised model) gradient attacks given by spec average their gradients
    over that many forwards (EOT) and ``autoattack`` becomes ``autoattack-rand``.
    """
    loaded = load_definition(suite, trust_code) or list(suite)
    items = list(loaded.attacks) if isinstance(loaded, Suite) else loaded
    if not items:
        raise RobenchError("suite 'custom' has no attacks")
    attacks = [
        item if isinstance(item, Attack) else build_suite_attack(str(item), threat, eot_samples)
        for item in items
    ]
    return {**suite_description(loaded), "attacks": [a.spec for a in attacks]}, attacks


def load_definition(suite: SuiteLike, trust_code: bool = False) -> Suite | None:
    """The ``Suite`` a name, file or Suite object stands for (loaded once per evaluation); None for a list
    of attack specs or Attack objects."""
    if isinstance(suite, (str, Path)):
        return load_suite(str(suite), trust_code=trust_code)
    return load_suite(suite) if isinstance(suite, Suite) else None


def build_suite_attack(spec: str, threat: ThreatModel, eot_samples: int = 1) -> Attack:
    """A suite's attack as the engine builds it (EOT versions for a randomised model)."""
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


def shard_positions(n: int, rank: int, world: int, block_size: int) -> list[int]:
    """Positions (in the evaluation subset) of shard ``rank`` of ``world``: whole blocks of block_size
    consecutive points, dealt round-robin (rank r takes blocks r, r + world, ...)."""
    if world < 1 or not 0 <= rank < world:
        raise RobenchError(f"shard {rank} of {world} does not exist")
    blocks = range(rank, -(-n // block_size), world)
    return [p for b in blocks for p in range(b * block_size, min(n, (b + 1) * block_size))]


class Evaluation:
    """The checked inputs of one evaluation, ready to run on every point or on one shard."""

    def __init__(
        self,
        model: nn.Module,
        dataset: ImageDataset,
        threat: ThreatModel,
        settings: RunSettings,
        *,
        model_name: str = "model",
        checkpoint_sha256: str | None = None,
        key: EvaluationKey | None = None,
    ) -> None:
        """``key``: the evaluation's key if the caller created it already (``evaluation_key_of``, the one
        function that creates it, on the same points, threat, settings and suite)."""
        self.settings, self.threat = settings, threat
        self.device = resolve_device(settings.device)
        #: the named or file suite as loaded (its focus, rules and rounds); None for a list of attacks.
        #: Loaded first: a suite file's error comes before any forward.
        self.definition = load_definition(settings.suite, settings.trust_code)
        self.data = evaluation_points(dataset, settings)
        check_threat(threat, self.data.input_shape)
        self.counted = CountingModel(prepare_for_eval(model).to(self.device))
        memory = batch_plan(settings.batch_size, self.counted.model, self.data, self.device)
        self.batch_size = memory.batch  # the one batch size of the evaluation (record.batch_size)
        self.randomness, self.probe_cost = self._probe_randomness()
        self.eot_samples = SUITE_EOT_SAMPLES if self.randomness.randomized else 1
        self.suite, self.attacks = resolve_suite(
            self.definition or settings.suite, threat, self.eot_samples, settings.trust_code
        )
        if any(attack.batch_random for attack in self.attacks) or self.randomness.randomized:
            warning = memory.block_warning(min(self.block_size, len(self.data)))
            if warning:
                warnings.warn(warning, stacklevel=2)
        self.key = key or evaluation_key_of(self.data, threat, settings, checkpoint_sha256, self.suite)
        #: what the outcome carries beside its points (robench.engine.outcome.IDENTITY)
        self.identity = {
            "key": self.key,
            "model": model_name,
            "n": len(self.data),
            "suite": {k: v for k, v in self.suite.items() if k not in ("name", "version", "digest")},
            "eot_samples": self.eot_samples,
        }

    @property
    def seed(self) -> int:
        return self.settings.seed

    @property
    def block_size(self) -> int:
        return self.settings.block_size

    @property
    def randomized(self) -> bool:
        """The probe found the model randomised: the evaluation runs with EOT and seeds its RNG per call."""
        return self.eot_samples > 1

    def _probe_randomness(self) -> tuple[RandomnessProbe, int]:
        """Repeated forwards on a few points: a randomised model needs EOT attacks. Run in a seeded RNG
        fork: the decision is reproducible and the caller's generator untouched. The model's first forwards:
        each answer must be logits (``check_logits``) before anything is attacked."""
        check_parameters(self.counted)
        x, classes = self.data.images[:PROBE_POINTS].to(self.device), classes_needed(self.data)
        with self.counted.measure() as cost, seeded_rng(self.device, self.seed, "probe"):
            probe = probe_randomness(self.counted, x, check=lambda out: check_logits(out, len(x), classes))
        if probe.randomized:
            warnings.warn(
                "the model's outputs change between identical forwards; attacks use EOT over "
                f"{SUITE_EOT_SAMPLES} samples",
                stacklevel=3,
            )
        return probe, cost.forward

    def details(self) -> dict[str, Any]:
        """The record fields that come from the preparation, not from the outcome."""
        probe = ProbeSummary(self.randomness.randomized, self.randomness.points, self.probe_cost)
        data = self.data
        info = DataInfo(data.spec or data.name, data.preprocessing, data.missing)
        return {"probe": probe, "batch_size": self.batch_size, "data_info": info}

    def run(self, state: EvaluationState | None, shard: tuple[int, int] | None = None) -> Outcome:
        """The suite on every point or on shard ``(rank, world)``; resumes from ``state``, never clears it."""
        data, shard_of = self.data, None
        positions = list(range(len(self.data)))
        if shard is not None:
            positions = shard_positions(len(self.data), *shard, self.block_size)
            data = self.data.take(torch.tensor(positions, dtype=torch.long))
            shard_of = list(shard)
        fresh = Outcome.start(data.indices.tolist(), data.labels.tolist(), **self.identity, shard=shard_of)
        outcome = self._resumed(state, fresh) or fresh
        ctx = self._context(data, positions, state)
        return run_all(ctx, self.attacks, outcome)

    def attack_points(self, attack: Attack, stage: int, positions: list[int]):
        """``attack`` on these positions of the evaluated points, seeded as stage ``stage`` (see
        ``runner.run_points``): extra stages the pipeline runs after the cascade (escalation)."""
        ctx = self._context(self.data, list(range(len(self.data))))
        return run_points(ctx, attack, stage, positions)

    def _context(self, data: ImageDataset, positions: list[int], state: EvaluationState | None = None):
        """The batch loops' context for these points (positions in the evaluated subset, for blocks)."""
        return RunContext(
            model=self.counted,
            data=data,
            threat=self.threat,
            seed=self.seed,
            batch_size=self.batch_size,
            device=self.device,
            blocks=[p // self.block_size for p in positions],
            randomized=self.randomized,
            state=state,
        )

    @staticmethod
    def _resumed(state: EvaluationState | None, fresh: Outcome) -> Outcome | None:
        saved = state.load() if state is not None else None
        if saved is None:
            return None
        if same_evaluation(saved, fresh):
            try:
                return Outcome.from_dict(saved)
            except (KeyError, TypeError):
                pass  # a state written by another version: start afresh
        warnings.warn(
            "saved evaluation state belongs to a different evaluation; starting afresh", stacklevel=4
        )
        return None
