"""Toy models for the attack tests: a pass-counting wrapper and a 2-class linear model."""

from __future__ import annotations

import torch
from torch import nn


class Counting(nn.Module):
    """Counts forward and backward passes in samples (a backward is counted when it reaches the logits)."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model, self.forward_samples, self.backward_samples = model, 0, 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.model(x)
        self.forward_samples += x.shape[0]
        if out.requires_grad:
            out.register_hook(lambda grad, n=x.shape[0]: self._backward(n))
        return out

    def _backward(self, n: int) -> None:
        self.backward_samples += n


class Linear2(nn.Module):
    """f(x) = W x + b with two classes, on flattened inputs."""

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor) -> None:
        super().__init__()
        self.weight, self.bias = weight, bias

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.flatten(1) @ self.weight.T + self.bias
