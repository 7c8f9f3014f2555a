"""Which operations of a model's forward have zero or undefined gradients almost everywhere.

``trace_masking(model, x)`` reads the forward with torch.fx where it traces (every node whose target is a
rounding, comparison, argmax/one-hot, detach or grad-mode switch), else with the straight-through mode's
own record of a forward on ``x`` (robench.attacks.straight_through: the operations it bridged); either
way it then checks, on ``x``, that the straight-through surrogate has usable input gradients (present,
finite and not all zero). The result says what BPDA replaces and whether it can attack at all.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass

import torch
import torch.fx
from torch import nn

from robench.attacks.losses import cw_margin
from robench.attacks.straight_through import REPLACEABLE, StraightThrough, op_name
from robench.core.counting import CountingModel

_FX_NAMES = {op_name(func) for func in REPLACEABLE} | {"greater", "less", "greater_equal", "less_equal"}
_OPERATORS = {operator.gt: "gt", operator.lt: "lt", operator.ge: "ge", operator.le: "le"}


@dataclass(frozen=True)
class Tracing:
    replaced: tuple[str, ...]  # operations the surrogate replaces, in order of appearance
    via: str  # "torch.fx", "forward" (the straight-through mode's record) or both ("torch.fx+forward")
    usable: bool  # the surrogate's input gradients are present, finite and not all zero on the sample

    def to_dict(self) -> dict:
        return {"replaced": list(self.replaced), "via": self.via, "usable": self.usable}


def fx_operations(model: nn.Module) -> tuple[str, ...] | None:
    """The replaceable operations in the model's torch.fx graph; None when it does not trace."""
    try:
        graph = torch.fx.symbolic_trace(model).graph
    except Exception:  # any Python the tracer cannot follow (data-dependent control flow, numpy, ...)
        return None
    found: list[str] = []
    for node in graph.nodes:
        name = _node_name(node)
        if name is not None and name not in found:
            found.append(name)
    return tuple(found)


def _node_name(node: torch.fx.Node) -> str | None:
    if node.op == "call_method":
        return node.target if node.target in _FX_NAMES else None
    if node.op != "call_function":
        return None
    if node.target in _OPERATORS:
        return _OPERATORS[node.target]
    if node.target is torch._C._set_grad_enabled:
        return "no_grad"
    name = getattr(node.target, "__name__", "")
    return name if name in _FX_NAMES else None


def trace_masking(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> Tracing:
    """What the straight-through surrogate of ``model`` replaces, and whether its gradients are usable."""
    surrogate = StraightThrough(model)
    x = x.detach().clone().requires_grad_(True)
    try:
        with torch.enable_grad():
            out = surrogate(x)
            loss = cw_margin(out.float(), y).sum() if out.requires_grad else None
            grad = torch.autograd.grad(loss, x, allow_unused=True)[0] if loss is not None else None
    except (RuntimeError, TypeError):  # the forward leaves torch (.numpy() of a tensor that needs grad)
        grad = None
    usable = grad is not None and bool(torch.isfinite(grad).all()) and bool((grad != 0).any())
    # the pass counter's bookkeeping does not trace with torch.fx; the network inside it does
    traced = fx_operations(model.model if isinstance(model, CountingModel) else model)
    if traced is None:
        return Tracing(tuple(surrogate.replaced), "forward", usable)
    recorded = tuple(name for name in surrogate.replaced if name not in traced)  # e.g. no-grad regions
    return Tracing(traced + recorded, "torch.fx+forward" if recorded else "torch.fx", usable)
