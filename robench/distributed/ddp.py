"""DistributedDataParallel training helpers: wrapping, per-rank batches, rank-0-only side effects.

The trainer keeps its own loop; under torchrun it
- wraps the model with ``wrap_model`` (DDP averages gradients over ranks; ``sync_bn`` converts
  BatchNorm to SyncBatchNorm, CUDA only) and crafts adversarial examples on ``unwrap(model)``, so the
  inner attack steps do not trigger gradient all-reduces;
- draws the same shuffled epoch order on every rank (same seed) and trains each rank on its equal
  chunk of every global batch (``rank_batch``), so one DDP step uses the same samples as one
  single-process step with ``--batch-size`` as the global batch;
- writes checkpoints, logs and cards on rank 0 only (``is_main``), and takes guard decisions on rank 0
  and shares them with ``broadcast_from_main`` so every rank stops at the same step.
"""

from __future__ import annotations

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from robench.distributed.runtime import current
from robench.distributed.sharding import local_batch, usable_epoch_length
from robench.errors import RobenchError


def is_main() -> bool:
    """Whether this process writes files (rank 0, or the only process)."""
    return current().is_main


def wrap_model(model: nn.Module, device: str | torch.device = "cpu", *, sync_bn: bool = False) -> nn.Module:
    """DDP-wrap the model when running distributed; the model itself otherwise."""
    ctx = current()
    if not ctx.distributed:
        return model
    on_cuda = torch.device(device).type == "cuda"
    if sync_bn:
        if not on_cuda:
            raise RobenchError("--sync-bn needs CUDA devices: torch's SyncBatchNorm does not run on CPU")
        model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
    device_ids = [torch.device(device).index or ctx.local_rank] if on_cuda else None
    return DistributedDataParallel(model, device_ids=device_ids)


def unwrap(model: nn.Module) -> nn.Module:
    """The module inside a DDP wrapper (what attacks, evaluation and checkpoints should use)."""
    return model.module if isinstance(model, DistributedDataParallel) else model


def epoch_positions(order: torch.Tensor, batch_size: int) -> torch.Tensor:
    """The shuffled epoch order, trimmed so every rank gets the same number of equal batches."""
    return order[: usable_epoch_length(int(order.shape[0]), batch_size, current().world_size)]


def rank_batch(global_batch: torch.Tensor) -> torch.Tensor:
    """This rank's equal, contiguous chunk of one global batch of positions."""
    ctx = current()
    return local_batch(global_batch, ctx.rank, ctx.world_size)


def mean_over_ranks(value: float) -> float:
    """The average of a per-rank number (a batch loss or accuracy) over all ranks, for logs."""
    ctx = current()
    if not ctx.distributed:
        return float(value)
    tensor = torch.tensor([float(value)], dtype=torch.float64)
    if dist.get_backend() == "nccl":
        tensor = tensor.cuda()
    dist.all_reduce(tensor)
    return float(tensor.item()) / ctx.world_size
