"""BPDA, generically: the model's true forward with straight-through gradients where its own are useless.

``StraightThrough(model)`` computes exactly the model's outputs, but inside its forward (a torch function
mode, so any model written with torch operations works, traceable or not):

- the rounding family (round, floor, ceil, trunc, sign, heaviside) passes the gradient straight through
  (identity backward);
- a comparison (``x > t``, ``gt``, ``le``, ...) returns its boolean mask tagged with the operand that
  requires grad; converting the mask to floats (``.float()``, ``.to(dtype)``, ``type_as``), mixing it into
  arithmetic or choosing with ``torch.where`` gives the same values with the identity gradient to that
  operand (binarisation, thresholds);
- ``argmax`` then ``one_hot`` (then a float conversion) gives the one-hot values with the softmax's
  gradient (the straight-through softmax estimator);
- ``detach()`` / ``.data`` keep the graph, and operations inside ``torch.no_grad`` regions are recorded
  as if grad were enabled.

``replaced`` lists the operations a forward bridged (what the record reports). Steps that leave torch
(numpy, PIL, JPEG encoders) cannot be bridged: their forward raises or returns no graph.
"""

from __future__ import annotations

import weakref

import torch
import torch.nn.functional as F
from torch import nn
from torch.overrides import TorchFunctionMode

ROUNDING = {
    torch.round,
    torch.floor,
    torch.ceil,
    torch.trunc,
    torch.sign,
    torch.fix,
    torch.heaviside,
    torch.Tensor.round,
    torch.Tensor.floor,
    torch.Tensor.ceil,
    torch.Tensor.trunc,
    torch.Tensor.sign,
    torch.Tensor.fix,
    torch.Tensor.heaviside,
}
COMPARISONS = {
    torch.gt,
    torch.lt,
    torch.ge,
    torch.le,
    torch.greater,
    torch.less,
    torch.greater_equal,
    torch.less_equal,
    torch.Tensor.gt,
    torch.Tensor.lt,
    torch.Tensor.ge,
    torch.Tensor.le,
    torch.Tensor.__gt__,
    torch.Tensor.__lt__,
    torch.Tensor.__ge__,
    torch.Tensor.__le__,
}
ARGMAX = {torch.argmax, torch.Tensor.argmax, torch.argmin, torch.Tensor.argmin}
ONE_HOT = {F.one_hot}
DETACHING = {torch.detach, torch.Tensor.detach, torch.Tensor.data.__get__}
CONVERSIONS = {
    torch.Tensor.float,
    torch.Tensor.double,
    torch.Tensor.half,
    torch.Tensor.to,
    torch.Tensor.type_as,
}
ARITHMETIC = {
    torch.mul,
    torch.add,
    torch.sub,
    torch.Tensor.mul,
    torch.Tensor.add,
    torch.Tensor.sub,
    torch.Tensor.__mul__,
    torch.Tensor.__rmul__,
    torch.Tensor.__add__,
    torch.Tensor.__radd__,
    torch.Tensor.__sub__,
    torch.Tensor.__rsub__,
}
#: every operation the mode may replace (robench.attacks.tracing reports those a forward uses)
REPLACEABLE = ROUNDING | COMPARISONS | ARGMAX | ONE_HOT | DETACHING


def op_name(func) -> str:
    """``round``, ``gt``, ``detach``, ``one_hot``: a function's short name for the record."""
    name = getattr(func, "__name__", None) or getattr(getattr(func, "__self__", None), "__name__", str(func))
    return "data" if func is torch.Tensor.data.__get__ else name.strip("_")


def _needs_grad(value) -> bool:
    return isinstance(value, torch.Tensor) and value.requires_grad


class _StraightThroughMode(TorchFunctionMode):
    def __init__(self) -> None:
        super().__init__()
        self.replaced: list[str] = []
        self._soft: dict[int, tuple[weakref.ref, torch.Tensor]] = {}  # id(mask) -> (mask, soft surrogate)

    def _note(self, name: str) -> None:
        if name not in self.replaced:
            self.replaced.append(name)

    def _tag(self, out: torch.Tensor, soft: torch.Tensor) -> torch.Tensor:
        self._soft[id(out)] = (weakref.ref(out), soft)
        return out

    def _soft_of(self, value) -> torch.Tensor | None:
        entry = self._soft.get(id(value)) if isinstance(value, torch.Tensor) else None
        return entry[1] if entry is not None and entry[0]() is value else None

    def _as_float(self, mask: torch.Tensor, dtype: torch.dtype | None = None) -> torch.Tensor:
        soft = self._soft_of(mask)
        value = mask.to(dtype or soft.dtype)
        return soft.to(value.dtype) + (value - soft.to(value.dtype)).detach()

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if torch.is_grad_enabled() or not any(_needs_grad(a) for a in args):
            return self._call(func, args, kwargs)
        self._note("no_grad")  # a no-grad region inside the forward: keep its graph
        with torch.enable_grad():
            return self._call(func, args, kwargs)

    def _call(self, func, args, kwargs):
        if func in DETACHING and _needs_grad(args[0]):
            self._note(op_name(func))
            return args[0].view_as(args[0])
        tagged = [a for a in args if self._soft_of(a) is not None]
        if tagged:
            return self._on_tagged(func, args, kwargs)
        out = func(*args, **kwargs)
        if not isinstance(out, torch.Tensor) or not any(_needs_grad(a) for a in args):
            return out
        if func in ROUNDING:
            self._note(op_name(func))
            return args[0] + (out - args[0]).detach()
        if func in COMPARISONS:
            self._note(op_name(func))
            return self._tag(out, args[0] if _needs_grad(args[0]) else -args[1])
        if func in ARGMAX:
            self._note(op_name(func))
            return self._tag(out, args[0])
        return out

    def _on_tagged(self, func, args, kwargs):
        """An operation on a tagged mask or index: straight through where the values allow it."""
        first = args[0]
        if func in ONE_HOT and self._soft_of(first) is not None:
            self._note("one_hot")
            scores = self._soft_of(first)
            out = func(*args, **kwargs)
            return self._tag(out, scores.softmax(-1).to(torch.float32))
        if func in CONVERSIONS and self._soft_of(first) is not None:
            target = func(first.detach(), *args[1:], **kwargs)
            return self._as_float(first, target.dtype) if target.is_floating_point() else target
        if func in ARITHMETIC:
            args = tuple(self._as_float(a) if self._soft_of(a) is not None else a for a in args)
            return func(*args, **kwargs)
        if func is torch.where and self._soft_of(first) is not None:
            chosen = func(*args, **kwargs)
            soft = self._as_float(first, chosen.dtype) - first.to(chosen.dtype)
            return chosen + soft * (args[1] - args[2])
        return func(*args, **kwargs)


class StraightThrough(nn.Module):
    """The model's forward with straight-through gradients (see the module docstring); ``replaced``: the
    operations the last forward bridged."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model
        self.replaced: list[str] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mode = _StraightThroughMode()
        with mode:
            out = self.model(x)
        self.replaced = list(mode.replaced)
        return out
