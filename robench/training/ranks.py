"""What the shared training loop asks of the process group, as one object that is a no-op alone.

``ranks = TrainingRanks.join(config.device, sync_bn=...)`` in the loop, then:

- ``ranks.device``: ``cuda:LOCAL_RANK`` under torchrun (one GPU per process), else the configured device;
- ``ranks.wrap(model)``: DistributedDataParallel (gradients averaged over ranks; ``sync_bn`` converts
  BatchNorm to SyncBatchNorm, CUDA only). Inner attack steps take input gradients only
  (``torch.autograd.grad``), which never fire DDP's gradient all-reduce;
- ``ranks.steps_per_epoch(n, batch_size)`` and ``ranks.batch(global_batch)``: every rank draws the same
  shuffled order (same seed) and trains on its equal, contiguous chunk of each global batch, so one DDP
  step sees the same samples as one single-process step (``--batch-size`` is the global batch). A final
  partial batch is trimmed to a multiple of the world size (at most world_size - 1 samples skipped per
  epoch, different ones each epoch); no sample is ever repeated;
- ``ranks.noise(rng, global_step)``: the RecipeRandom for augmentation and random starts. Alone it is the
  run's own; under torchrun each rank gets its own per step, seeded from (run seed, step, rank), so ranks
  do not share noise and a resumed run redraws exactly the same (the shared generator keeps the order);
- ``ranks.sum(*numbers)``: per-step totals (loss, correct, seen) summed over ranks, for the logs;
- ``ranks.check_resume(saved_world_size)``: a run resumes only with as many ranks as it ran on;
- ``ranks.decide(fn)``: ``fn()`` on rank 0 (validation, guards), its value on every rank, so all ranks
  stop together; ``ranks.is_main``: only rank 0 writes checkpoints, logs, cards and resume state.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import TypeVar

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from robench.core.seeding import rank_step_seed
from robench.distributed.collect import broadcast_from_main, check_all_ok
from robench.distributed.runtime import DistContext, rank_device, setup
from robench.distributed.sharding import local_batch, usable_epoch_length
from robench.errors import RobenchError
from robench.training.recipes.base import RecipeRandom

T = TypeVar("T")


class TrainingRanks:
    def __init__(self, ctx: DistContext, device: str, sync_bn: bool = False) -> None:
        self.ctx, self.device, self.sync_bn = ctx, device, sync_bn

    @classmethod
    def join(cls, device: str, *, sync_bn: bool = False) -> TrainingRanks:
        """Join the torchrun process group, if any (a single process gets the no-op version)."""
        if sync_bn and torch.device(device).type != "cuda":
            raise RobenchError("--sync-bn needs CUDA devices: torch's SyncBatchNorm does not run on CPU")
        ctx = setup(device)
        if sync_bn and not ctx.distributed:
            warnings.warn("--sync-bn has no effect in a single process (start with torchrun)", stacklevel=2)
        return cls(ctx, rank_device(device), sync_bn)

    @property
    def is_main(self) -> bool:
        return self.ctx.is_main

    @property
    def world_size(self) -> int:
        return self.ctx.world_size

    def check_resume(self, saved_world_size: int) -> None:
        """A run resumes only on as many ranks as it ran on: they decide the steps, chunks and noise."""
        if saved_world_size != self.ctx.world_size:
            raise RobenchError(
                f"cannot resume: the interrupted run trained on {saved_world_size} process(es) and this one "
                f"has {self.ctx.world_size}; relaunch it with as many (torchrun --nproc-per-node)"
            )

    def wrap(self, model: nn.Module) -> nn.Module:
        """DistributedDataParallel around the model under torchrun (SyncBatchNorm first if asked)."""
        if not self.ctx.distributed:
            return model
        device = torch.device(self.device)
        if self.sync_bn:
            model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
        device_ids = [device.index] if device.type == "cuda" else None
        return DistributedDataParallel(model, device_ids=device_ids)

    def steps_per_epoch(self, num_samples: int, batch_size: int) -> int:
        return math.ceil(usable_epoch_length(num_samples, batch_size, self.ctx.world_size) / batch_size)

    def batch(self, global_batch: torch.Tensor) -> torch.Tensor:
        """This rank's chunk of a global batch (a final partial batch trimmed to split evenly)."""
        world = self.ctx.world_size
        keep = global_batch.shape[0] - global_batch.shape[0] % world
        return local_batch(global_batch[:keep], self.ctx.rank, world)

    def noise(self, rng, global_step: int):
        """The RecipeRandom for this step's augmentation and random starts (``rng`` itself alone)."""
        if not self.ctx.distributed:
            return rng
        seed = rank_step_seed(rng.generator.initial_seed(), global_step, self.ctx.rank)
        return RecipeRandom(torch.Generator().manual_seed(seed))

    def sum(self, *numbers: float) -> tuple[float, ...]:
        if not self.ctx.distributed:
            return tuple(float(v) for v in numbers)
        tensor = torch.tensor([float(v) for v in numbers], dtype=torch.float64)
        if dist.get_backend() == "nccl":
            tensor = tensor.to(self.device)
        dist.all_reduce(tensor)
        return tuple(tensor.cpu().tolist())

    def decide(self, fn: Callable[[], T]) -> T:
        """fn() on rank 0 only; every rank returns rank 0's value (every rank raises if fn does)."""
        value, error = None, None
        if self.ctx.is_main:
            try:
                value = fn()
            except Exception as exc:  # re-raised by check_all_ok after the peers have been told
                error = exc
        check_all_ok(error, "a rank-0 decision")
        return broadcast_from_main(value)
