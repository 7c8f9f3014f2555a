"""The non-affine operations of a traced network: ReLU, max pooling and residual addition.

For each, ``interval(l, u)`` maps input bounds to output bounds (IBP) and ``relaxation(l, u)`` gives the
linear bounds CROWN propagates backwards (Zhang et al. 2018): for an unstable ReLU (l < 0 < u) the upper
line through (l, 0) and (u, u) and the lower line y >= a x with a = 1 if u >= -l else 0; for max pooling
the bounds of DeepPoly (Singh et al. 2019): y >= x_k with k the window's element of largest lower bound,
and y <= x_k when x_k's lower bound is at least every other element's upper bound, else y <= max u.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


class ReluOp:
    kind = "relu"

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.in_shape = self.out_shape = tuple(shape)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.clamp_min(0)

    def interval(self, lo, hi):
        return lo.clamp_min(0), hi.clamp_min(0)

    @staticmethod
    def relaxation(lo: torch.Tensor, hi: torch.Tensor):
        """(lower slope, upper slope, upper intercept); the lower line passes through 0."""
        unstable = (lo < 0) & (hi > 0)
        active = lo >= 0
        width = (hi - lo).clamp_min(1e-30)
        upper_slope = torch.where(unstable, hi / width, active.to(lo.dtype))
        upper_intercept = torch.where(unstable, -lo * hi / width, torch.zeros_like(lo))
        lower_slope = torch.where(unstable, (hi >= -lo).to(lo.dtype), active.to(lo.dtype))
        return lower_slope, upper_slope, upper_intercept


class AddOp:
    """Sum of two traced tensors (a residual connection)."""

    kind = "add"

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.in_shape = self.out_shape = tuple(shape)

    def forward(self, a, b):
        return a + b


class MaxPoolOp:
    kind = "maxpool"

    def __init__(self, kernel, stride, padding, dilation, ceil_mode, in_shape, out_shape) -> None:
        pair = torch.nn.modules.utils._pair
        self.kernel, self.stride = pair(kernel), pair(stride if stride else kernel)
        self.padding, self.dilation, self.ceil_mode = pair(padding), pair(dilation), bool(ceil_mode)
        self.in_shape, self.out_shape = tuple(in_shape), tuple(out_shape)
        self._index_map = self._window_index_map()

    def forward(self, x):
        return F.max_pool2d(x, self.kernel, self.stride, self.padding, self.dilation, self.ceil_mode)

    def interval(self, lo, hi):
        return self.forward(lo), self.forward(hi)

    def _windows(self, x: torch.Tensor, fill: float) -> torch.Tensor:
        """(B, C, k*k, L): the elements of every pooling window, padding cells set to ``fill``."""
        (ph, pw), (sh, sw) = self.padding, self.stride
        oh, ow = self.out_shape[1:]
        span_h = (oh - 1) * sh + self.dilation[0] * (self.kernel[0] - 1) + 1
        span_w = (ow - 1) * sw + self.dilation[1] * (self.kernel[1] - 1) + 1
        h, w = x.shape[-2:]
        extra_h, extra_w = max(0, span_h - h - ph), max(0, span_w - w - pw)
        padded = F.pad(x, (pw, extra_w, ph, extra_h), value=fill)
        cols = F.unfold(padded, self.kernel, dilation=self.dilation, stride=self.stride)
        b, c = x.shape[:2]
        cols = cols.view(b, c, math.prod(self.kernel), -1)
        rows_h = (padded.shape[-2] - self.dilation[0] * (self.kernel[0] - 1) - 1) // sh + 1
        rows_w = (padded.shape[-1] - self.dilation[1] * (self.kernel[1] - 1) - 1) // sw + 1
        if (rows_h, rows_w) != (oh, ow):  # extra windows from the right/bottom padding: keep PyTorch's
            cols = cols.view(b, c, -1, rows_h, rows_w)[..., :oh, :ow].reshape(b, c, cols.shape[2], -1)
        return cols

    def _window_index_map(self) -> torch.Tensor:
        """(k*k, L): the flat input position of each window element (-1 for padding)."""
        h, w = self.in_shape[1:]
        positions = torch.arange(h * w, dtype=torch.float64).view(1, 1, h, w)
        return self._windows(positions, -1.0)[0, 0].long()

    def relaxation(self, lo: torch.Tensor, hi: torch.Tensor):
        """(index (B, C, L) of the bounding element, dominant (B, C, L) bool, upper constant (B, C, L))."""
        low = self._windows(lo, -math.inf)
        up = self._windows(hi, -math.inf)
        pick = low.argmax(2, keepdim=True)
        picked_low = low.gather(2, pick)
        others = up.scatter(2, pick, -math.inf).amax(2, keepdim=True)
        dominant = (picked_low >= others).squeeze(2)
        upper = up.amax(2)
        index_map = self._index_map.to(lo.device)
        index = index_map.gather(0, pick.squeeze(2).flatten(0, 1)).view_as(dominant)
        return index, dominant, upper

    def transpose_rows(self, rows: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
        """Scatter coefficients (N, C, oh, ow) on outputs onto the inputs ``index`` (N, C, L) names."""
        n, c = rows.shape[:2]
        h, w = self.in_shape[1:]
        out = torch.zeros((n, c, h * w), dtype=rows.dtype, device=rows.device)
        out = out.scatter_add(2, index, rows.reshape(n, c, -1))
        return out.view(n, c, h, w)
