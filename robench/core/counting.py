"""Cost accounting at the model: forward and backward passes in samples, with per-stage snapshots.

``CountingModel(model)`` behaves like ``model``; every forward adds the batch size to ``forward``, and a
hook on the output's gradient adds the batch size to ``backward`` when a backward pass reaches the
output. Counts are what the model really did, not estimates. It also notes when a forward run with a
grad-requiring input returns an output that does not require grad (a broken gradient graph).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class PassCount:
    forward: int = 0
    backward: int = 0

    def __sub__(self, other: PassCount) -> PassCount:
        return PassCount(self.forward - other.forward, self.backward - other.backward)

    def __add__(self, other: PassCount) -> PassCount:
        return PassCount(self.forward + other.forward, self.backward + other.backward)

    @property
    def total(self) -> int:
        return self.forward + self.backward


class CountingModel(nn.Module):
    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model
        self.forward_samples = 0
        self.backward_samples = 0
        self.broken_graph_calls = 0  # forwards where the input required grad but the output did not
        self.stages: dict[str, PassCount] = {}

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

    def count(self) -> PassCount:
        return PassCount(self.forward_samples, self.backward_samples)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Add the passes made inside the block to ``self.stages[name]`` (a per-stage snapshot)."""
        start = self.count()
        try:
            yield
        finally:
            self.stages[name] = self.stages.get(name, PassCount()) + (self.count() - start)
