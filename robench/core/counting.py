"""Cost accounting at the model: forward and backward passes in samples, measured around any block.

``CountingModel(model)`` behaves like ``model``; every forward adds the batch size to ``forward``, and a
hook on the output's gradient adds the batch size to ``backward`` when a backward pass reaches the
output. Counts are what the model really did, not estimates. ``with counted.measure() as cost:`` fills
``cost`` (a :class:`robench.core.cost.Cost`) with the passes and seconds spent inside the block. It also
notes when a forward run with a grad-requiring input returns an output that does not require grad (a
broken gradient graph).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn

from robench.core.cost import Cost


class CountingModel(nn.Module):
    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model
        self.forward_samples = 0
        self.backward_samples = 0
        self.broken_graph_calls = 0  # forwards where the input required grad but the output did not

    def forward(self, x: torch.Tensor, *args, **kwargs) -> torch.Tensor:
        out = self.model(x, *args, **kwargs)
        batch = int(x.shape[0])
        self.forward_samples += batch
        if isinstance(out, torch.Tensor):
            if out.requires_grad:
                out.register_hook(self._count_backward(batch))
            elif torch.is_grad_enabled() and isinstance(x, torch.Tensor) and x.requires_grad:
                self.broken_graph_calls += 1
        return out

    def _count_backward(self, batch: int):
        def hook(grad: torch.Tensor) -> None:
            self.backward_samples += batch

        return hook

    def count(self) -> Cost:
        """Passes so far (seconds 0)."""
        return Cost(self.forward_samples, self.backward_samples)

    @contextmanager
    def measure(self) -> Iterator[Cost]:
        """Yield a Cost that, when the block ends (even by an exception), holds its passes and seconds."""
        cost, start, clock = Cost(), self.count(), time.perf_counter()
        try:
            yield cost
        finally:
            used = self.count() - start
            cost.forward, cost.backward = used.forward, used.backward
            cost.seconds = time.perf_counter() - clock
