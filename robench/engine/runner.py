"""The batch loops: the clean pass (with a gradient probe) and the cascade of attack stages.

After every batch the outcome is saved through the evaluation state, so an interrupted run resumes at
the next unfinished batch. Batches are formed from the points a stage still has to attack, in canonical
order; every random choice comes from per-point seeds, so results do not depend on the batch size.
Attacks that draw their randomness per call (``Attack.batch_random``: AutoAttack, Square) are called
once per block of ``block_size`` consecutive evaluation points instead (the block's points still to
attack), whatever the batch size; shards are made of whole blocks, so their results do not depend on
sharding either. A randomised model (``randomized``: the evaluation runs with EOT) draws its noise from
torch's global generator: then the clean pass and every stage run once per block, each call (its
verification included) in a fork of that generator seeded from (seed, stage or "clean", block).
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from robench.attacks.base import Attack
from robench.core.cost import Cost
from robench.core.counting import CountingModel
from robench.core.record import AttackFailure, NonFinite, Rejection
from robench.core.seeding import point_seeds, seeded_rng
from robench.core.verify import Verification, verify
from robench.data.base import ImageDataset
from robench.engine.outcome import BROKEN, FAILED, REJECTED, SURVIVED, Outcome
from robench.engine.state import EvaluationState
from robench.errors import RobenchError
from robench.progress import progress_bar
from robench.threat import ThreatModel


@dataclass
class RunContext:
    """What every batch loop of one evaluation (or shard) shares."""

    model: CountingModel
    data: ImageDataset  # the points of this run (the shard's, when sharded)
    threat: ThreatModel
    seed: int
    batch_size: int
    device: str
    blocks: list[int]  # block id of each position of ``data``
    randomized: bool = False  # a randomised model: every call per block, in a seeded RNG fork
    state: EvaluationState | None = None

    def save(self, outcome: Outcome) -> None:
        if self.state is not None:
            self.state.save(outcome.to_dict())

    def seeded(self, work: Callable[[list[int]], None], *key: int | str) -> Callable[[list[int]], None]:
        """``work`` on a batch (one block's positions) in an RNG fork seeded from (*key, block)."""

        def seeded_work(batch: list[int]) -> None:
            with seeded_rng(self.device, *key, self.blocks[batch[0]]):
                work(batch)

        return seeded_work


class _Batches:
    """Hands out batches of positions; halves the batch size when CUDA runs out of memory.

    With ``blocks`` (a block id per position), a batch never mixes blocks and a whole block is one batch
    (until CUDA runs out of memory: a split block is warned about, its results then depend on the batch
    size)."""

    def __init__(self, positions: list[int], batch_size: int, blocks: list[int] | None = None) -> None:
        self.positions, self.batch_size, self.start, self.blocks = positions, batch_size, 0, blocks
        self.largest_block = 0
        if blocks is not None:
            self.batch_size = len(positions) or 1  # whole blocks (cut in _next_batch)
            self.largest_block = max(Counter(blocks[p] for p in positions).values(), default=0)

    def _next_batch(self) -> list[int]:
        batch = self.positions[self.start : self.start + self.batch_size]
        if self.blocks is not None:
            block = self.blocks[batch[0]]
            batch = [p for p in batch if self.blocks[p] == block]
        return batch

    def run(self, work: Callable[[list[int]], None], on_done: Callable[[int], None]) -> None:
        while self.start < len(self.positions):
            batch = self._next_batch()
            try:
                work(batch)
            except torch.cuda.OutOfMemoryError:
                if self.batch_size == 1:
                    raise
                self._halve()
                continue
            self.start += len(batch)
            on_done(len(batch))

    def _halve(self) -> None:
        self.batch_size = max(1, self.batch_size // 2)
        torch.cuda.empty_cache()
        split = (
            "; blocks are split, so results are no longer reproducible with another batch size"
            if self.batch_size < self.largest_block
            else ""
        )
        warnings.warn(f"CUDA out of memory: batch size lowered to {self.batch_size}{split}", stacklevel=3)


def _check_logits(logits, num_classes: int, dataset: str) -> None:
    if not isinstance(logits, torch.Tensor):
        raise RobenchError(f"the model returned {type(logits).__name__}, not a tensor of logits")
    if logits.dim() != 2 or logits.shape[1] != num_classes:
        got = logits.shape[1] if logits.dim() == 2 else f"shape {tuple(logits.shape)}"
        raise RobenchError(f"the model outputs {got} classes but {dataset} has {num_classes} classes")


def _clean_batch(ctx: RunContext, batch: list[int]) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Clean logits of a batch and the input gradient of its cross-entropy (None: the graph is broken)."""
    data = ctx.data
    x = data.images[batch].to(ctx.device).requires_grad_(True)
    y = data.labels[batch].to(ctx.device)
    ctx.model.eval()
    with torch.enable_grad():
        logits = ctx.model(x)
        _check_logits(logits, data.num_classes, data.name)
        finite = torch.isfinite(logits.detach()).all(1)
        if not finite.all():
            bad = data.indices[batch][~finite.cpu()].tolist()
            raise RobenchError(
                f"the model returns NaN or inf logits on {len(bad)} clean images (first: index {bad[0]}); "
                "check the checkpoint and its normalisation"
            )
        grad = None
        if logits.requires_grad:
            (grad,) = torch.autograd.grad(F.cross_entropy(logits, y, reduction="sum"), x, allow_unused=True)
    return logits.detach(), grad


def run_clean(ctx: RunContext, outcome: Outcome) -> None:
    """Clean predictions plus one input-gradient probe per point (graph broken or gradient exactly zero).

    Randomised models: one call per block, seeded from (seed, "clean", block)."""
    data, correct = ctx.data, [False] * len(ctx.data)
    gradients = outcome.problems.gradients

    def work(batch: list[int]) -> None:
        logits, grad = _clean_batch(ctx, batch)
        y = data.labels[batch].to(ctx.device)
        for pos, ok in zip(batch, (logits.argmax(1) == y).cpu().tolist(), strict=True):
            correct[pos] = ok
        indices = data.indices[batch].tolist()
        if grad is None:
            gradients.no_graph += indices
        else:
            flat = grad.detach().flatten(1)
            dead = (flat.abs().amax(1) == 0).cpu().tolist()
            gradients.zero_grad += [i for i, d in zip(indices, dead, strict=True) if d]
            bad = (~torch.isfinite(flat).all(1)).cpu().tolist()
            gradients.nonfinite += [i for i, b in zip(indices, bad, strict=True) if b]

    if ctx.randomized:
        work = ctx.seeded(work, ctx.seed, "clean")
    with ctx.model.measure() as cost, progress_bar("clean", total=len(data)) as bar:
        batches = _Batches(list(range(len(data))), ctx.batch_size, ctx.blocks if ctx.randomized else None)
        batches.run(work, bar.advance)
    outcome.clean_cost += cost
    outcome.clean_correct = correct
    ctx.save(outcome)


def _attack_batch(
    ctx: RunContext,
    attack: Attack,
    stage: int,
    batch: list[int],
    gradient_trouble: set[int],
    graph_breaks_tolerated: bool = False,
):
    """Attack and verify one batch: the verification, or the first line of the error of a gradient
    attack that crashed on points whose gradients are unusable (then nothing is verified): points the
    clean pass found so (``gradient_trouble``), or, with ``graph_breaks_tolerated``, any batch on which
    the model's forward broke the gradient graph during this attack (a detached model)."""
    data = ctx.data
    indices = data.indices[batch].tolist()
    x, y = data.images[batch].to(ctx.device), data.labels[batch].to(ctx.device)
    graph_breaks = ctx.model.broken_graph_calls
    try:
        x_adv = attack.perturb(ctx.model, x.clone(), y.clone(), point_seeds(ctx.seed, indices, stage))
    except torch.cuda.OutOfMemoryError:
        raise  # a RuntimeError too: _Batches retries with a smaller batch
    except RuntimeError as exc:
        graph_broke = graph_breaks_tolerated and ctx.model.broken_graph_calls != graph_breaks
        if not (attack.uses_gradients and (gradient_trouble.intersection(indices) or graph_broke)):
            raise
        return None, f"{type(exc).__name__}: {exc}".splitlines()[0]
    return verify(ctx.model, x, x_adv, y, ctx.threat), None


def _record_batch(outcome: Outcome, stage: int, batch: list[int], indices: list[int], check: Verification):
    """Each point's status after a verified batch; rejected outputs and non-finite logits are kept."""
    name, column = outcome.stage_names[stage], outcome.status[stage]
    for j, pos in enumerate(batch):
        if check.reasons[j] is not None:
            column[pos] = REJECTED
            outcome.problems.rejected.append(Rejection(name, indices[j], check.reasons[j]))
            continue
        column[pos] = BROKEN if check.broken[j] else SURVIVED
        outcome.note_margin(pos, float(check.margin[j]))
        if check.nonfinite[j]:
            outcome.problems.nonfinite_logits.append(NonFinite(name, indices[j]))
    if not check.valid.all():
        first = next(r for r in check.reasons if r is not None)
        warnings.warn(
            f"{name} returned {int((~check.valid).sum())} invalid adversarial examples ({first}); "
            "they were rejected, not counted",
            stacklevel=4,
        )


def _record_failure(outcome: Outcome, stage: int, batch: list[int], indices: list[int], error: str) -> None:
    name = outcome.stage_names[stage]
    for pos in batch:
        outcome.status[stage][pos] = FAILED
    outcome.problems.attack_errors.append(AttackFailure(name, indices, error))
    warnings.warn(f"{name} failed on {len(batch)} points with unusable gradients: {error}", stacklevel=4)


def run_stage(ctx: RunContext, attack: Attack, stage: int, outcome: Outcome) -> None:
    """Attack every point this stage still has to attack; verify each output; save after every batch.

    ``batch_random`` attacks (and every attack on a randomised model) run per block; with a randomised
    model each call and its verification run in an RNG fork seeded from (seed, stage, block)."""
    name = outcome.stage_names[stage]
    todo = [p for p in range(len(ctx.data)) if outcome.needs_attack(stage, p)]
    gradient_trouble = outcome.problems.gradients.indices()

    def work(batch: list[int]) -> None:
        indices = ctx.data.indices[batch].tolist()
        with ctx.model.measure() as cost:
            check, error = _attack_batch(ctx, attack, stage, batch, gradient_trouble)
        outcome.stage_cost[stage] += cost
        if error is not None:
            _record_failure(outcome, stage, batch, indices, error)
        else:
            _record_batch(outcome, stage, batch, indices, check)
        ctx.save(outcome)

    per_block = attack.batch_random or ctx.randomized
    if ctx.randomized:
        work = ctx.seeded(work, ctx.seed, stage)
    with progress_bar(f"{stage + 1}/{len(outcome.stage_names)} {name}", total=len(todo)) as bar:
        _Batches(todo, ctx.batch_size, ctx.blocks if per_block else None).run(work, bar.advance)


def run_points(ctx: RunContext, attack: Attack, stage: int, positions: list[int]):
    """Attack the given positions as stage ``stage`` would (seeds, blocks, verification), outside the
    cascade's bookkeeping: -> (broken bool per position, cost, rejected outputs). A gradient attack that
    crashes on a batch whose forward broke the gradient graph (a detached model) breaks none of it, with a
    warning (the cascade's own stages have recorded that model's unusable gradients as problems)."""
    broken, rejections, cost = [False] * len(positions), [], Cost()
    where = {p: k for k, p in enumerate(positions)}

    def work(batch: list[int]) -> None:
        nonlocal cost
        indices = ctx.data.indices[batch].tolist()
        with ctx.model.measure() as used:
            check, error = _attack_batch(ctx, attack, stage, batch, set(), graph_breaks_tolerated=True)
        cost += used
        if error is not None:
            warnings.warn(
                f"{attack.spec} failed on {len(batch)} points with unusable gradients: {error}; "
                "it broke none of them",
                stacklevel=4,
            )
            return
        for j, pos in enumerate(batch):
            if check.reasons[j] is not None:
                rejections.append(Rejection(attack.spec, indices[j], check.reasons[j]))
            broken[where[pos]] = bool(check.broken[j])

    per_block = attack.batch_random or ctx.randomized
    if ctx.randomized:
        work = ctx.seeded(work, ctx.seed, stage)
    with progress_bar(attack.spec, total=len(positions)) as bar:
        _Batches(positions, ctx.batch_size, ctx.blocks if per_block else None).run(work, bar.advance)
    return broken, cost.rounded(), rejections


def run_all(ctx: RunContext, attacks: Sequence[Attack], outcome: Outcome) -> Outcome:
    """The clean pass (unless a resumed outcome already has it), then every stage in order."""
    if outcome.clean_correct is None:
        run_clean(ctx, outcome)
    for stage, attack in enumerate(attacks):
        run_stage(ctx, attack, stage, outcome)
    return outcome
