"""The batch loops: the clean pass (with a gradient probe) and the cascade of attack stages.

After every batch the outcome is saved through the evaluation state, so an interrupted run resumes at
the next unfinished batch. Batches are formed from the points a stage still has to attack, in canonical
order; every random choice comes from per-point seeds, so results do not depend on the batch size.
Attacks that draw their randomness per call (``Attack.batch_random``: AutoAttack, Square) are called
once per block of BLOCK_SIZE consecutive evaluation points instead (the block's points still to attack),
whatever the batch size; shards are made of whole blocks, so their results do not depend on sharding
either. A randomised model (``randomized``: the evaluation runs with EOT) draws its noise from torch's
global generator: then the clean pass and every stage run once per block, each call (its verification
included) in a fork of that generator seeded from (seed, stage or "clean", block) by ``seeded_rng``.
"""

from __future__ import annotations

import time
import warnings
from collections import Counter
from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F

from robench.attacks.base import Attack
from robench.core.counting import CountingModel
from robench.core.seeding import point_seeds, seeded_rng
from robench.core.verify import verify
from robench.data.base import ImageDataset
from robench.engine.outcome import BROKEN, FAILED, REJECTED, SURVIVED, Outcome
from robench.engine.state import EvaluationState
from robench.errors import RobenchError
from robench.progress import progress_bar
from robench.threat import ThreatModel

#: default points per block for attacks with per-call randomness (and the unit of sharding): large
#: enough for AutoAttack to work on full batches, small enough to balance shards of real evaluations
BLOCK_SIZE = 256


def default_blocks(n: int) -> list[int]:
    return [p // BLOCK_SIZE for p in range(n)]


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
                self.batch_size = max(1, self.batch_size // 2)
                torch.cuda.empty_cache()
                split = (
                    "; blocks are split, so results are no longer reproducible with another batch size"
                    if self.batch_size < self.largest_block
                    else ""
                )
                warnings.warn(
                    f"CUDA out of memory: batch size lowered to {self.batch_size}{split}", stacklevel=2
                )
                continue
            self.start += len(batch)
            on_done(len(batch))


def _check_logits(logits, num_classes: int, dataset: str) -> None:
    if not isinstance(logits, torch.Tensor):
        raise RobenchError(f"the model returned {type(logits).__name__}, not a tensor of logits")
    if logits.dim() != 2 or logits.shape[1] != num_classes:
        got = logits.shape[1] if logits.dim() == 2 else f"shape {tuple(logits.shape)}"
        raise RobenchError(f"the model outputs {got} classes but {dataset} has {num_classes} classes")


def _seeded(work: Callable[[list[int]], None], device: str, key: tuple, blocks: list[int]):
    """``work`` on a batch (one block's positions) in an RNG fork seeded from (*key, block)."""

    def seeded_work(batch: list[int]) -> None:
        with seeded_rng(device, *key, blocks[batch[0]]):
            work(batch)

    return seeded_work


def run_clean(
    model: CountingModel,
    data: ImageDataset,
    outcome: Outcome,
    batch_size: int,
    device: str,
    state: EvaluationState | None,
    *,
    seed: int = 0,
    randomized: bool = False,
    blocks: list[int] | None = None,
) -> None:
    """Clean predictions plus one input-gradient probe per point (graph broken or gradient exactly zero).

    ``randomized``: one call per block (``blocks``, default position // BLOCK_SIZE), seeded from
    (seed, "clean", block)."""
    correct: list[bool] = [False] * len(data)

    def work(batch: list[int]) -> None:
        x = data.images[batch].to(device).requires_grad_(True)
        y = data.labels[batch].to(device)
        model.eval()
        with torch.enable_grad():
            logits = model(x)
            _check_logits(logits, data.num_classes, data.name)
            finite = torch.isfinite(logits.detach()).all(1)
            if not finite.all():
                bad = data.indices[batch][~finite.cpu()].tolist()
                raise RobenchError(
                    f"the model returns NaN or inf logits on {len(bad)} clean images "
                    f"(first: index {bad[0]}); "
                    "check the checkpoint and its normalisation"
                )
            grad = None
            if logits.requires_grad:
                loss = F.cross_entropy(logits, y, reduction="sum")
                (grad,) = torch.autograd.grad(loss, x, allow_unused=True)
        for pos, ok in zip(batch, (logits.detach().argmax(1) == y).cpu().tolist(), strict=True):
            correct[pos] = ok
        indices = data.indices[batch].tolist()
        if grad is None:
            outcome.no_graph += indices
        else:
            dead = (grad.detach().flatten(1).abs().amax(1) == 0).cpu().tolist()
            outcome.zero_grad += [i for i, d in zip(indices, dead, strict=True) if d]

    if randomized:
        blocks = blocks or default_blocks(len(data))
        work = _seeded(work, device, (seed, "clean"), blocks)
    start, count0 = time.perf_counter(), model.count()
    with progress_bar("clean", total=len(data)) as bar:
        _Batches(list(range(len(data))), batch_size, blocks if randomized else None).run(work, bar.advance)
    used = model.count() - count0
    outcome.clean_cost.add(used.forward, used.backward, time.perf_counter() - start)
    outcome.clean_correct = correct
    if state is not None:
        state.save(outcome.to_dict())


def run_stage(
    model: CountingModel,
    data: ImageDataset,
    threat: ThreatModel,
    attack: Attack,
    stage: int,
    outcome: Outcome,
    *,
    seed: int,
    batch_size: int,
    device: str,
    state: EvaluationState | None,
    blocks: list[int] | None = None,
    randomized: bool = False,
) -> None:
    """Attack every point this stage still has to attack; verify each output; save after every batch.

    ``blocks`` gives each position's block (default: position // BLOCK_SIZE); it is used for
    ``batch_random`` attacks and, with ``randomized``, for every attack: then each call and its
    verification run in an RNG fork seeded from (seed, stage, block). Call order: block by block."""
    name = outcome.stage_names[stage]
    todo = [p for p in range(len(data)) if outcome.needs_attack(stage, p)]
    grad_trouble = set(outcome.no_graph) | set(outcome.zero_grad)

    def work(batch: list[int]) -> None:
        indices = data.indices[batch].tolist()
        x = data.images[batch].to(device)
        y = data.labels[batch].to(device)
        seeds = point_seeds(seed, indices, stage)
        start, count0 = time.perf_counter(), model.count()
        try:
            x_adv = attack(model, x.clone(), y.clone(), seeds)
            error = None
        except torch.cuda.OutOfMemoryError:
            raise  # a RuntimeError too: _Batches retries with a smaller batch
        except RuntimeError as exc:
            if not (attack.uses_gradients and grad_trouble.intersection(indices)):
                raise
            x_adv, error = None, f"{type(exc).__name__}: {exc}".splitlines()[0]
        if error is None:
            check = verify(model, x, x_adv, y, threat)
        used, seconds = model.count() - count0, time.perf_counter() - start
        outcome.stage_cost[stage].add(used.forward, used.backward, seconds)
        column = outcome.status[stage]
        if error is not None:
            for pos in batch:
                column[pos] = FAILED
            outcome.attack_errors.append({"stage": name, "indices": indices, "error": error})
            warnings.warn(
                f"{name} failed on {len(batch)} points with unusable gradients: {error}", stacklevel=2
            )
        else:
            for j, pos in enumerate(batch):
                if check.reasons[j] is not None:
                    column[pos] = REJECTED
                    outcome.rejected.append({"stage": name, "index": indices[j], "reason": check.reasons[j]})
                else:
                    column[pos] = BROKEN if check.broken[j] else SURVIVED
                    if check.nonfinite[j]:
                        outcome.nonfinite.append({"stage": name, "index": indices[j]})
            if not check.valid.all():
                first = next(r for r in check.reasons if r is not None)
                warnings.warn(
                    f"{name} returned {int((~check.valid).sum())} invalid adversarial examples ({first}); "
                    "they were rejected, not counted",
                    stacklevel=2,
                )
        if state is not None:
            state.save(outcome.to_dict())

    total = len(outcome.stage_names)
    per_block = attack.batch_random or randomized
    if per_block:
        blocks = blocks or default_blocks(len(data))
    if randomized:
        work = _seeded(work, device, (seed, stage), blocks)
    with progress_bar(f"{stage + 1}/{total} {name}", total=len(todo)) as bar:
        _Batches(todo, batch_size, blocks if per_block else None).run(work, bar.advance)


def run_all(
    model: CountingModel,
    data: ImageDataset,
    threat: ThreatModel,
    attacks: Sequence[Attack],
    outcome: Outcome,
    *,
    seed: int,
    batch_size: int,
    device: str,
    state: EvaluationState | None,
    blocks: list[int] | None = None,
    randomized: bool = False,
) -> Outcome:
    """The clean pass, then every stage; ``randomized`` (a randomised model, EOT): seeded calls per block."""
    if outcome.clean_correct is None:
        run_clean(
            model, data, outcome, batch_size, device, state, seed=seed, randomized=randomized, blocks=blocks
        )
    for stage, attack in enumerate(attacks):
        run_stage(
            model,
            data,
            threat,
            attack,
            stage,
            outcome,
            seed=seed,
            batch_size=batch_size,
            device=device,
            state=state,
            blocks=blocks,
            randomized=randomized,
        )
    return outcome
