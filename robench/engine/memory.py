"""The automatic batch size, bounded by memory: no more points per batch than an attack step on them
fits in half of the free memory.

The per-sample memory of an attack step (forward, a scalar loss, backward to the input; parameter
gradients off) is measured on the model itself as the slope between two small probe batches, so the
weights and the runtime's fixed costs are not counted per sample: on CUDA the peak memory the allocator
reports; on CPU the tensors autograd saves for the backward pass (torch's saved-tensor hooks, forward only),
times ``CPU_MARGIN`` for the step's transient buffers (measured: a WideResNet-28-10's peak resident memory
grows by 1.15 x its saved tensors per sample, a WideResNet-70-16's by 1.17 x). Free memory is
``torch.cuda.mem_get_info`` on CUDA, the kernel's ``MemAvailable`` on CPU. An evaluation batch may take
``FREE_FRACTION`` of it: attacks keep a few copies of the batch (best adversarial inputs, momentum, the
verification forward) beside the step. On CPU the probe runs only for models with at least
``CPU_PROBE_FROM`` bytes of weights (below that, 512 points of any such network fit easily; the probe's
forwards are then not worth it). CUDA out-of-memory still halves the batch at run time
(robench.engine.runner). Stages that run a whole block per call (AutoAttack, Square) are not batched
this way (their results would depend on the batch): a warning names a smaller ``--block-size`` when a
block would not fit in the free memory.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

FREE_FRACTION = 0.5
CPU_MARGIN = 1.25
CPU_PROBE_FROM = 64 * 2**20  # bytes of weights
PROBE_BATCHES = (2, 4)


def batch_from_memory(per_sample: float, free: int, limit: int) -> int:
    """Points per batch that fit ``FREE_FRACTION`` of ``free`` bytes at ``per_sample`` bytes, in 1..limit."""
    return max(1, min(limit, int(FREE_FRACTION * free // max(per_sample, 1.0))))


def _logits(model: nn.Module, x: torch.Tensor) -> torch.Tensor | None:
    """The model's output when it is a batch of logits; None otherwise (the clean pass reports that)."""
    out = model(x)
    return out if isinstance(out, torch.Tensor) and out.dim() == 2 else None


def _cuda_step(model: nn.Module, input_shape: Sequence[int], batch: int, device: str) -> int | None:
    """Peak bytes the allocator reports for one attack step, beyond what was allocated before."""
    torch.cuda.synchronize(device)
    torch.cuda.reset_peak_memory_stats(device)
    before = torch.cuda.memory_allocated(device)
    logits = _logits(model, torch.rand(batch, *input_shape, device=device, requires_grad=True))
    if logits is None:
        return None
    logits.float().logsumexp(1).sum().backward()
    torch.cuda.synchronize(device)
    return torch.cuda.max_memory_allocated(device) - before


def _cpu_step(model: nn.Module, input_shape: Sequence[int], batch: int, device: str) -> int | None:
    """Bytes of the tensors autograd saves for the backward pass of one forward (each storage once)."""
    saved: dict[int, int] = {}

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        storage = tensor.untyped_storage()
        saved[storage.data_ptr()] = storage.nbytes()
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        logits = _logits(model, torch.rand(batch, *input_shape, device=device, requires_grad=True))
    return None if logits is None else int(CPU_MARGIN * sum(saved.values()))


def per_sample_bytes(model: nn.Module, input_shape: Sequence[int], device: str) -> float | None:
    """Bytes per sample of an attack step on ``model``, the slope between the probe batches (None: the
    model does not return logits); the caller's random generators are left as they were."""
    step = _cuda_step if device.startswith("cuda") else _cpu_step
    devices = [torch.device(device)] if device.startswith("cuda") else []
    with torch.random.fork_rng(devices=devices):
        peaks = [step(model, input_shape, batch, device) for batch in PROBE_BATCHES]
    if None in peaks:
        return None
    small, large = PROBE_BATCHES
    slope = (peaks[1] - peaks[0]) / (large - small)
    return slope if slope > 0 else peaks[1] / large


def free_bytes(device: str) -> int:
    """Free GPU memory, or the memory the kernel says is available without swapping."""
    if device.startswith("cuda"):
        return torch.cuda.mem_get_info(torch.device(device))[0]
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


@dataclass(frozen=True)
class MemoryPlan:
    """The batch size chosen, and what it was chosen from (None where nothing was measured)."""

    batch: int
    per_sample: float | None = None
    free: int | None = None

    def block_warning(self, points: int) -> str | None:
        """A sentence when a stage that runs ``points`` points per call (AutoAttack, Square: a block)
        would need more memory than is free; None when it fits or nothing was measured."""
        if self.per_sample is None or self.free is None or self.per_sample * points <= self.free:
            return None
        need, free = self.per_sample * points / 2**30, self.free / 2**30
        smaller = max(1, int(self.free // self.per_sample) // 2)
        return (
            f"AutoAttack and Square attack {points} points per call (--block-size): about {need:.1f} GiB "
            f"for this model, more than the {free:.1f} GiB free; give a smaller --block-size (e.g. {smaller})"
        )


def memory_plan(
    model: nn.Module, input_shape: Sequence[int], device: str, limit: int, free: int | None = None
) -> MemoryPlan:
    """At most ``limit`` points per batch, fewer when an attack step on that many would not fit in half of
    the free memory (``free``: bytes, default :func:`free_bytes`)."""
    weights = sum(p.numel() * p.element_size() for p in model.parameters())
    if limit <= PROBE_BATCHES[-1] or (not device.startswith("cuda") and weights < CPU_PROBE_FROM):
        return MemoryPlan(limit)
    per_sample = per_sample_bytes(model, input_shape, device)
    if per_sample is None:
        return MemoryPlan(limit)
    free = free_bytes(device) if free is None else free
    return MemoryPlan(batch_from_memory(per_sample, free, limit), per_sample, free)


def memory_batch_size(
    model: nn.Module, input_shape: Sequence[int], device: str, limit: int, free: int | None = None
) -> int:
    """:func:`memory_plan`'s batch size."""
    return memory_plan(model, input_shape, device, limit, free).batch
