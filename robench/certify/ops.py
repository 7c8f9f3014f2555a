"""Affine operations of a traced network, each with the three maps bound propagation needs.

An affine op is ``f(x) = L x + b`` on one point's tensor (a batch dimension in front). Each op gives
``forward(x)`` (the network's own computation), ``linear(x)`` (L x, no bias), ``abs_linear(r)`` (|L| r,
for interval radii), ``transpose(A)`` (A L for a batch of coefficient rows, the backward step of CROWN)
and ``macs`` (multiply-accumulates of one application to one point, the unit of the work count).
Weights are read from the live module at every call, so bounds follow training updates and gradients
flow to the parameters. Everything is computed in the dtype of the tensor passed in.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn


class AffineOp:
    """Base class; ``in_shape``/``out_shape`` are per-point shapes (no batch dimension)."""

    kind = "affine"
    elementwise = False  # True for ops that act on each element alone (scale/shift, reshape)

    def __init__(self, in_shape: tuple[int, ...], out_shape: tuple[int, ...]) -> None:
        self.in_shape, self.out_shape = tuple(in_shape), tuple(out_shape)

    @property
    def macs(self) -> int:
        return math.prod(self.out_shape)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def linear(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def abs_linear(self, r: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def square_linear(self, v: torch.Tensor) -> torch.Tensor | None:
        """(L ∘ L) v, the map with squared entries (for exact L2 row norms); None when not available."""
        return None

    def bias(self, like: torch.Tensor) -> torch.Tensor:
        """b as one point's output tensor (shape ``(1, *out_shape)``)."""
        zero = torch.zeros((1, *self.in_shape), dtype=like.dtype, device=like.device)
        return self.forward(zero)

    def transpose(self, rows: torch.Tensor) -> torch.Tensor:
        """A L for coefficient rows ``A`` of shape ``(N, *out_shape)``: shape ``(N, *in_shape)``."""
        return vector_jacobian(self.linear, self.in_shape, rows)


def vector_jacobian(linear: Callable, in_shape: tuple[int, ...], rows: torch.Tensor) -> torch.Tensor:
    """A L of a linear map by autograd (exact for a linear map); differentiable in A and the weights."""
    with torch.enable_grad():
        zero = torch.zeros((rows.shape[0], *in_shape), dtype=rows.dtype, device=rows.device)
        zero.requires_grad_(True)
        out = linear(zero)
        (grad,) = torch.autograd.grad(out, zero, rows, create_graph=torch.is_grad_enabled())
    return grad


class LinearOp(AffineOp):
    def __init__(self, module: nn.Linear, in_shape, out_shape) -> None:
        super().__init__(in_shape, out_shape)
        self.module = module

    @property
    def macs(self) -> int:
        return self.module.in_features * math.prod(self.out_shape)

    def _w(self, x: torch.Tensor) -> torch.Tensor:
        return self.module.weight.to(x.dtype)

    def forward(self, x):
        b = self.module.bias
        return F.linear(x, self._w(x), None if b is None else b.to(x.dtype))

    def linear(self, x):
        return F.linear(x, self._w(x))

    def abs_linear(self, r):
        return F.linear(r, self._w(r).abs())

    def square_linear(self, v):
        return F.linear(v, self._w(v).square())

    def transpose(self, rows):
        return rows @ self._w(rows)


class ConvOp(AffineOp):
    def __init__(self, module: nn.Conv2d, in_shape, out_shape) -> None:
        super().__init__(in_shape, out_shape)
        self.module = module
        if isinstance(module.padding, str) or module.padding_mode != "zeros":
            # 'same'/'valid' strings and non-zero padding modes: use the module's own maps via autograd
            self._explicit_transpose = False
        else:
            self._explicit_transpose = True

    @property
    def macs(self) -> int:
        m = self.module
        per_output = (m.in_channels // m.groups) * math.prod(m.kernel_size)
        return per_output * math.prod(self.out_shape)

    def _conv(self, x, weight, bias=None):
        m = self.module
        if m.padding_mode != "zeros":
            return m._conv_forward(x, weight, bias)
        return F.conv2d(x, weight, bias, m.stride, m.padding, m.dilation, m.groups)

    def forward(self, x):
        b = self.module.bias
        return self._conv(x, self.module.weight.to(x.dtype), None if b is None else b.to(x.dtype))

    def linear(self, x):
        return self._conv(x, self.module.weight.to(x.dtype))

    def abs_linear(self, r):
        return self._conv(r, self.module.weight.to(r.dtype).abs())

    def square_linear(self, v):
        return self._conv(v, self.module.weight.to(v.dtype).square())

    def transpose(self, rows):
        if not self._explicit_transpose:
            return super().transpose(rows)
        m = self.module
        flat = rows.reshape(-1, *self.out_shape)
        out_hw, in_hw = self.out_shape[1:], self.in_shape[1:]
        extra = [
            in_hw[d]
            - ((out_hw[d] - 1) * m.stride[d] - 2 * m.padding[d] + m.dilation[d] * (m.kernel_size[d] - 1) + 1)
            for d in range(2)
        ]
        weight = m.weight.to(rows.dtype)
        return F.conv_transpose2d(flat, weight, None, m.stride, m.padding, extra, m.groups, m.dilation)


class ScaleShiftOp(AffineOp):
    """``x * scale + shift`` elementwise with constant tensors (BatchNorm in eval mode, (x - mean) / std)."""

    elementwise = True

    def __init__(self, scale_fn: Callable, shift_fn: Callable, in_shape, out_shape) -> None:
        super().__init__(in_shape, out_shape)
        self.scale_fn, self.shift_fn = scale_fn, shift_fn

    def forward(self, x):
        return x * self.scale_fn(x) + self.shift_fn(x)

    def linear(self, x):
        return x * self.scale_fn(x)

    def abs_linear(self, r):
        return r * self.scale_fn(r).abs()

    def square_linear(self, v):
        return v * self.scale_fn(v).square()

    def transpose(self, rows):
        return rows * self.scale_fn(rows)


def batchnorm_op(module: nn.modules.batchnorm._BatchNorm, in_shape, out_shape) -> ScaleShiftOp:
    """BatchNorm in eval mode with running statistics: a per-channel scale and shift."""
    shape = (1, -1) + (1,) * (len(in_shape) - 1)

    def scale(x):
        inv = torch.rsqrt(module.running_var.to(x.dtype) + module.eps)
        w = module.weight.to(x.dtype) * inv if module.weight is not None else inv
        return w.view(shape)

    def shift(x):
        mean = module.running_mean.to(x.dtype).view(shape)
        b = module.bias.to(x.dtype).view(shape) if module.bias is not None else 0.0
        return b - mean * scale(x)

    return ScaleShiftOp(scale, shift, in_shape, out_shape)


def constant_op(scale, shift, in_shape, out_shape) -> ScaleShiftOp:
    """Elementwise arithmetic with constants (python numbers or tensors that broadcast over one point)."""

    def as_tensor(value):
        return lambda x: torch.as_tensor(value, dtype=x.dtype, device=x.device)

    return ScaleShiftOp(as_tensor(scale), as_tensor(shift), in_shape, out_shape)


class ReshapeOp(AffineOp):
    """Flatten / view / reshape that keeps the batch dimension (and identities: dropout, contiguous)."""

    elementwise = True

    @property
    def macs(self) -> int:
        return 0

    def forward(self, x):
        return x.reshape(x.shape[0], *self.out_shape)

    linear = forward
    abs_linear = forward
    square_linear = forward

    def bias(self, like):
        return torch.zeros((1, *self.out_shape), dtype=like.dtype, device=like.device)

    def transpose(self, rows):
        return rows.reshape(rows.shape[0], *self.in_shape)


class PoolOp(AffineOp):
    """Average pooling (any AvgPool2d / AdaptiveAvgPool2d): linear with non-negative weights."""

    def __init__(self, pool: Callable, in_shape, out_shape) -> None:
        super().__init__(in_shape, out_shape)
        self.pool = pool

    @property
    def macs(self) -> int:
        return math.prod(self.in_shape)

    def forward(self, x):
        return self.pool(x)

    linear = forward
    abs_linear = forward

    def bias(self, like):
        return torch.zeros((1, *self.out_shape), dtype=like.dtype, device=like.device)
