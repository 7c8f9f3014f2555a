"""A network as a graph of operations that have bound rules, traced with ``torch.fx``.

``trace_network(model, sample)`` traces the module (``Normalized``'s ``(x - mean) / std`` included),
runs it once on ``sample`` to learn every tensor's shape, maps each traced call to an op of
``robench.certify.ops`` / ``robench.certify.nonlinear``, and checks that the graph reproduces the
model's output. A layer or operation without a bound rule is one ``RobenchError`` naming it.
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass, field

import torch
import torch.fx as fx
import torch.nn.functional as F
from torch import nn

from robench.certify.nonlinear import AddOp, MaxPoolOp, ReluOp
from robench.certify.ops import (
    ConvOp,
    LinearOp,
    PoolOp,
    ReshapeOp,
    batchnorm_op,
    constant_op,
)
from robench.errors import RobenchError

SUPPORTED = (
    "Linear, Conv2d, ReLU, BatchNorm1d/2d (eval mode), AvgPool2d, AdaptiveAvgPool2d, mean, MaxPool2d, "
    "Flatten/view/reshape, Identity, Dropout (eval mode), residual additions and arithmetic with "
    "constants (normalisation)"
)
_RELU = {F.relu, torch.relu, "relu", "relu_"}
_RESHAPE = {torch.flatten, torch.reshape, "flatten", "view", "reshape", "contiguous", "clone"}
_IDENTITY = {"contiguous", "clone", F.dropout, torch.dropout, "detach"}
_ARITHMETIC = {
    operator.add: "add", torch.add: "add", "add": "add", operator.sub: "sub", torch.sub: "sub",
    "sub": "sub", operator.mul: "mul", torch.mul: "mul", "mul": "mul", operator.truediv: "div",
    torch.div: "div", "div": "div", operator.neg: "neg", torch.neg: "neg", "neg": "neg",
}  # fmt: skip
_POOLS = {F.adaptive_avg_pool2d: nn.AdaptiveAvgPool2d, F.avg_pool2d: nn.AvgPool2d}


@dataclass
class Node:
    index: int
    label: str  # for messages: "layer 'net.3' (Conv2d)" or "operation 'add_1' (add)"
    op: object | None  # None for the input
    inputs: tuple[int, ...]
    shape: tuple[int, ...]  # one point's output shape

    @property
    def kind(self) -> str:
        return "input" if self.op is None else self.op.kind


@dataclass
class BoundGraph:
    nodes: list[Node]
    output: int
    forward_macs: int = field(init=False)

    def __post_init__(self) -> None:
        self.forward_macs = sum(n.op.macs for n in self.nodes if n.kind == "affine") or 1

    @property
    def input_shape(self) -> tuple[int, ...]:
        return self.nodes[0].shape

    def consumers(self) -> dict[int, list[int]]:
        out: dict[int, list[int]] = {n.index: [] for n in self.nodes}
        for node in self.nodes:
            for i in node.inputs:
                out[i].append(node.index)
        return out

    def evaluate(self, x: torch.Tensor) -> torch.Tensor:
        """The network's output computed through the graph's ops (it must equal the model's)."""
        values: list[torch.Tensor | None] = [x]
        for node in self.nodes[1:]:
            values.append(node.op.forward(*(values[i] for i in node.inputs)))
        return values[self.output]


def unwrap(model: nn.Module) -> nn.Module:
    """The module inside DataParallel / DistributedDataParallel."""
    parallel = (nn.DataParallel, nn.parallel.DistributedDataParallel)
    return model.module if isinstance(model, parallel) else model


def trace_network(model: nn.Module, sample: torch.Tensor, *, check: bool = True) -> BoundGraph:
    """Trace ``model`` (one tensor in, one out) into a :class:`BoundGraph`; ``sample``: example inputs."""
    model = unwrap(model)
    try:
        module = fx.symbolic_trace(model)
    except Exception as error:  # fx raises many types for untraceable Python (data-dependent control flow)
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise RobenchError(f"cannot certify: torch.fx cannot trace the model ({first})") from None
    if sum(n.op == "placeholder" for n in module.graph.nodes) != 1:
        raise RobenchError("cannot certify: the model's forward takes more than one input")
    sample = sample[:1].expand(2, *sample.shape[1:]).contiguous()  # batch 2: batch-mixing ops show up
    parameter = next(model.parameters(), None)
    if parameter is not None and parameter.is_floating_point():
        sample = sample.to(parameter.dtype)
    values = _run(module, sample)
    graph = _Builder(module, values).build()
    if check:
        _check_reproduces(graph, model, sample)
    return graph


def _run(module: fx.GraphModule, sample: torch.Tensor) -> dict[fx.Node, object]:
    values: dict[fx.Node, object] = {}

    class Recorder(fx.Interpreter):
        def run_node(self, n):
            values[n] = result = super().run_node(n)
            return result

    with torch.no_grad():
        Recorder(module).run(sample)
    return values


def _check_reproduces(graph: BoundGraph, model: nn.Module, sample: torch.Tensor) -> None:
    with torch.no_grad():
        expected, got = model(sample), graph.evaluate(sample)
    scale = float(expected.abs().max()) + 1.0
    gap = float((expected - got).abs().max())
    if not gap <= 1e-4 * scale:
        raise RobenchError(
            "cannot certify: the traced graph does not reproduce the model's output "
            f"(max difference {gap:.3g})"
        )


class _Builder:
    def __init__(self, module: fx.GraphModule, values: dict[fx.Node, object]) -> None:
        self.module, self.values = module, values
        self.nodes: list[Node] = []
        self.index: dict[fx.Node, int] = {}  # traced tensors that depend on the input
        self.shape_only: set[fx.Node] = set()  # non-tensor values derived from the input (x.size(0))

    def build(self) -> BoundGraph:
        output = None
        for n in self.module.graph.nodes:
            if n.op == "placeholder":
                self._placeholder(n)
            elif n.op == "output":
                output = self._output(n)
            elif n.op == "get_attr":
                continue
            elif self._depends_on_input(n):
                self._call(n)
        return BoundGraph(self.nodes, output)

    def _placeholder(self, n: fx.Node) -> None:
        self.index[n] = 0
        self.nodes.append(Node(0, "input", None, (), tuple(self.values[n].shape[1:])))

    def _output(self, n: fx.Node) -> int:
        result = n.args[0]
        if not isinstance(result, fx.Node) or result not in self.index:
            raise RobenchError("cannot certify: the model must return one tensor of logits")
        return self.index[result]

    def _depends_on_input(self, n: fx.Node) -> bool:
        return any(a in self.index or a in self.shape_only for a in n.all_input_nodes)

    def _label(self, n: fx.Node) -> str:
        if n.op == "call_module":
            return f"layer '{n.target}' ({type(self.module.get_submodule(n.target)).__name__})"
        name = n.target if isinstance(n.target, str) else getattr(n.target, "__name__", str(n.target))
        return f"operation '{n.name}' ({name})"

    def _unsupported(self, n: fx.Node, why: str = "has no bound rule") -> RobenchError:
        return RobenchError(f"cannot certify: {self._label(n)} {why}; certify supports {SUPPORTED}")

    def _add(self, n: fx.Node, op, inputs: tuple[int, ...]) -> None:
        value = self.values[n]
        if not isinstance(value, torch.Tensor) or value.dim() == 0 or value.shape[0] != 2:
            raise self._unsupported(n, "mixes points of the batch")
        index = len(self.nodes)
        self.nodes.append(Node(index, self._label(n), op, inputs, tuple(value.shape[1:])))
        self.index[n] = index

    def _shapes(self, n: fx.Node, source: fx.Node) -> tuple[tuple[int, ...], tuple[int, ...]]:
        return tuple(self.values[source].shape[1:]), tuple(self.values[n].shape[1:])

    def _call(self, n: fx.Node) -> None:
        value = self.values[n]
        if not isinstance(value, torch.Tensor):  # x.size(0), x.shape: allowed as reshape arguments only
            self.shape_only.add(n)
            return
        tensors = [a for a in n.all_input_nodes if a in self.index]
        if any(a in self.shape_only for a in n.all_input_nodes) and not self._is_reshape(n):
            raise self._unsupported(n, "computes with the input's shape")
        if n.op == "call_module":
            self._module_call(n, tensors[0])
        else:
            self._function_call(n, tensors)

    def _is_reshape(self, n: fx.Node) -> bool:
        return n.op in ("call_function", "call_method") and n.target in _RESHAPE

    def _module_call(self, n: fx.Node, source: fx.Node) -> None:
        module = self.module.get_submodule(n.target)
        in_shape, out_shape = self._shapes(n, source)
        op = _module_op(module, in_shape, out_shape, self._unsupported(n, "is in train mode"))
        if op is None:
            raise self._unsupported(n)
        self._add(n, op, (self.index[source],))

    def _function_call(self, n: fx.Node, tensors: list[fx.Node]) -> None:
        target = n.target
        if target in _ARITHMETIC:
            return self._arithmetic(n, _ARITHMETIC[target], tensors)
        if len(tensors) != 1:
            raise self._unsupported(n)
        source = tensors[0]
        in_shape, out_shape = self._shapes(n, source)
        if target in _RELU:
            op = ReluOp(out_shape)
        elif target in _IDENTITY or target in _RESHAPE:
            if target in (F.dropout, torch.dropout) and _dropout_training(n):
                raise self._unsupported(n, "is dropout in train mode")
            op = ReshapeOp(in_shape, out_shape)
        elif target in _POOLS:
            args = [self.values.get(a, a) if isinstance(a, fx.Node) else a for a in n.args[1:]]
            op = PoolOp(_POOLS[target](*args, **n.kwargs), in_shape, out_shape)
        elif target is F.max_pool2d:
            op = _functional_maxpool(n, in_shape, out_shape)
        elif target in (torch.mean, "mean") and n.kwargs.get("dtype") is None:
            args, kwargs = n.args[1:], dict(n.kwargs)
            op = PoolOp(lambda t, a=args, k=kwargs: t.mean(*a, **k), in_shape, out_shape)  # x.mean((2, 3))
        else:
            raise self._unsupported(n)
        self._add(n, op, (self.index[source],))

    def _arithmetic(self, n: fx.Node, name: str, tensors: list[fx.Node]) -> None:
        if n.kwargs.get("alpha", 1) != 1 or "rounding_mode" in n.kwargs:
            raise self._unsupported(n)
        traced = [a for a in n.args if isinstance(a, fx.Node) and a in self.index]
        in_shape, out_shape = self._shapes(n, tensors[0])
        if len(traced) == 2 and name == "add":
            if traced[0] is traced[1]:  # x + x
                return self._add(n, constant_op(2.0, 0.0, in_shape, out_shape), (self.index[traced[0]],))
            if any(tuple(self.values[t].shape[1:]) != out_shape for t in traced):
                raise self._unsupported(n, "adds tensors of different shapes")
            return self._add(n, AddOp(out_shape), tuple(self.index[t] for t in traced))
        if len(traced) != 1:
            raise self._unsupported(n, "combines two traced tensors")
        scale, shift = _affine_coefficients(name, list(n.args), traced[0], self.values)
        if scale is None:
            raise self._unsupported(n)
        if in_shape != out_shape:
            raise self._unsupported(n, "broadcasts its input to a new shape")
        self._add(n, constant_op(scale, shift, in_shape, out_shape), (self.index[traced[0]],))


def _constant(value, values):
    return values[value] if isinstance(value, fx.Node) else value


def _affine_coefficients(name: str, args: list, source: fx.Node, values: dict):
    """(scale, shift) with op(x) = x * scale + shift, or (None, None) when not affine in ``source``."""
    if name == "neg":
        return -1.0, 0.0
    first_is_x = args[0] is source
    other = _constant(args[1] if first_is_x else args[0], values)
    if isinstance(other, torch.Tensor):
        other = other.detach().clone()
    if name == "add":
        return 1.0, other
    if name == "sub":
        return (1.0, -other) if first_is_x else (-1.0, other)
    if name == "mul":
        return other, 0.0
    if name == "div" and first_is_x:
        return 1.0 / other, 0.0
    return None, None


def _dropout_training(n: fx.Node) -> bool:
    """F.dropout(x, p, training=True) and torch.dropout(x, p, train): is it active (the default)?"""
    if "training" in n.kwargs or "train" in n.kwargs:
        return bool(n.kwargs.get("training", n.kwargs.get("train")))
    return bool(n.args[2]) if len(n.args) > 2 else True


def _functional_maxpool(n: fx.Node, in_shape, out_shape) -> MaxPoolOp:
    names = ("kernel_size", "stride", "padding", "dilation", "ceil_mode", "return_indices")
    given = dict(zip(names, n.args[1:], strict=False)) | dict(n.kwargs)
    if given.get("return_indices"):
        raise RobenchError(f"cannot certify: operation '{n.name}' (max_pool2d) returns indices")
    return MaxPoolOp(
        given["kernel_size"],
        given.get("stride"),
        given.get("padding", 0),
        given.get("dilation", 1),
        given.get("ceil_mode", False),
        in_shape,
        out_shape,
    )


def _module_op(module: nn.Module, in_shape, out_shape, in_train_mode: RobenchError):
    """The op for a leaf module, or None when it has no bound rule."""
    if isinstance(module, nn.Linear):
        return LinearOp(module, in_shape, out_shape)
    if isinstance(module, nn.Conv2d):
        return ConvOp(module, in_shape, out_shape)
    if isinstance(module, nn.ReLU):
        return ReluOp(out_shape)
    if isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)):
        if module.training or module.running_mean is None:
            raise in_train_mode
        return batchnorm_op(module, in_shape, out_shape)
    if isinstance(module, nn.MaxPool2d):
        if module.return_indices:
            return None
        m = module
        return MaxPoolOp(m.kernel_size, m.stride, m.padding, m.dilation, m.ceil_mode, in_shape, out_shape)
    if isinstance(module, (nn.AvgPool2d, nn.AdaptiveAvgPool2d)):
        return PoolOp(module, in_shape, out_shape)
    if isinstance(module, (nn.Dropout, nn.Dropout1d, nn.Dropout2d)):
        if module.training and module.p > 0:
            raise in_train_mode
        return ReshapeOp(in_shape, out_shape)
    if isinstance(module, (nn.Flatten, nn.Identity)):
        if math.prod(in_shape) != math.prod(out_shape):
            return None
        return ReshapeOp(in_shape, out_shape)
    return None
