"""The automatic batch size on CUDA: no larger than what fits in the GPU's free memory.

The per-sample memory of an attack step (forward, a scalar loss, backward to the input; parameter gradients
off) is measured on the model itself, as the slope of the peak allocated memory between two small probe
batches, so weights and the runtime's fixed costs are not counted per sample. An evaluation batch may then
take ``FREE_FRACTION`` of the memory free after the model was loaded: attacks keep a few copies of the
batch (best adversarial inputs, momentum, the verification forward) beside the step itself. CUDA
out-of-memory still halves the batch at run time (robench.engine.runner).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

FREE_FRACTION = 0.5
PROBE_BATCHES = (2, 4)


def batch_from_memory(per_sample: float, free: int, limit: int) -> int:
    """Points per batch that fit ``FREE_FRACTION`` of ``free`` bytes at ``per_sample`` bytes, in 1..limit."""
    return max(1, min(limit, int(FREE_FRACTION * free // max(per_sample, 1.0))))


def _step_peak(model: nn.Module, input_shape: Sequence[int], batch: int, device: str) -> int | None:
    """Peak bytes allocated by one attack step on ``batch`` random inputs beyond what was allocated before;
    None when the output is not a batch of logits (the clean pass reports that)."""
    torch.cuda.synchronize(device)
    torch.cuda.reset_peak_memory_stats(device)
    before = torch.cuda.memory_allocated(device)
    x = torch.rand(batch, *input_shape, device=device, requires_grad=True)
    logits = model(x)
    if not isinstance(logits, torch.Tensor) or logits.dim() != 2:
        return None
    logits.float().logsumexp(1).sum().backward()
    torch.cuda.synchronize(device)
    return torch.cuda.max_memory_allocated(device) - before


def per_sample_bytes(model: nn.Module, input_shape: Sequence[int], device: str) -> float | None:
    """Bytes per sample of an attack step on ``model`` (CUDA), the slope between the probe batches; the
    caller's random generators are left as they were."""
    with torch.random.fork_rng(devices=[torch.device(device)]):
        peaks = [_step_peak(model, input_shape, batch, device) for batch in PROBE_BATCHES]
    if None in peaks:
        return None
    small, large = PROBE_BATCHES
    slope = (peaks[1] - peaks[0]) / (large - small)
    return slope if slope > 0 else peaks[1] / large


def cuda_batch_size(
    model: nn.Module, input_shape: Sequence[int], device: str, limit: int, free: int | None = None
) -> int:
    """At most ``limit`` points per batch, fewer when an attack step on that many would not fit in half of
    the free GPU memory (``free``: bytes, default ``torch.cuda.mem_get_info``)."""
    per_sample = per_sample_bytes(model, input_shape, device)
    if per_sample is None:
        return limit
    if free is None:
        free = torch.cuda.mem_get_info(torch.device(device))[0]
    return batch_from_memory(per_sample, free, limit)
