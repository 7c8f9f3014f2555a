"""BPDA, generically: gradients through non-differentiable steps of a model's forward.

``StraightThrough(model)`` computes exactly the same outputs, but inside its forward the rounding
family (round, floor, ceil, trunc, sign) passes the gradient straight through (identity backward) and
``detach`` / ``.data`` keep the graph. This covers input quantisation, bit-depth reduction and forwards
that detach their input, when written with torch operations. Steps leaving torch (numpy, PIL, JPEG
encoders) cannot be bridged generically: for those only the black-box stage still works.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.overrides import TorchFunctionMode

_ROUNDING = {
    torch.round, torch.floor, torch.ceil, torch.trunc, torch.sign,
    torch.Tensor.round, torch.Tensor.floor, torch.Tensor.ceil, torch.Tensor.trunc, torch.Tensor.sign,
}  # fmt: skip
_DETACHING = {torch.detach, torch.Tensor.detach, torch.Tensor.data.__get__}


class _StraightThroughMode(TorchFunctionMode):
    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func in _DETACHING and isinstance(args[0], torch.Tensor):
            return args[0].view_as(args[0])
        out = func(*args, **kwargs)
        if func in _ROUNDING and isinstance(args[0], torch.Tensor) and args[0].requires_grad:
            source = args[0]
            return source + (out - source).detach()
        return out


class StraightThrough(nn.Module):
    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        with _StraightThroughMode():
            return self.model(x)


class LogOutput(nn.Module):
    """For a model that outputs probabilities: attack their logarithm, which behaves like logits."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x).clamp_min(1e-30).log()
