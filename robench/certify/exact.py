"""Exact verification of tiny ReLU networks by mixed-integer linear programming (scipy HiGHS).

The ReLU network on the linf ball intersected with [0, 1] is encoded exactly (Tjeng et al. 2019): one
continuous variable per neuron, affine ops as equalities, each unstable ReLU (pre-activation bounds
l < 0 < u, from CROWN) by a binary a with ``y >= x, y >= 0, y <= u a, y <= x - l (1 - a)``. For every
j != y one MILP minimises z_y - z_j; the smallest optimum is the exact minimum margin, attained at the
returned input. For networks of a few dozen to a few hundred neurons (Linear/Conv2d, ReLU, residual
additions, reshapes, normalisation); an l2 ball is not a linear constraint and is not supported.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp
from torch import nn

from robench.certify.bounds import crown_bounds
from robench.certify.graph import BoundGraph, trace_network
from robench.certify.ibp import interval_bounds
from robench.certify.region import InputRegion
from robench.errors import RobenchError
from robench.threat import ThreatModel

MAX_NEURONS = 2_000
_WIDEN = 1e-7  # relative widening of the pre-activation bounds against rounding


@dataclass(frozen=True)
class ExactMargins:
    min_margin: torch.Tensor  # float64 (N,): exact min over the set of min_{j != y} z_y - z_j
    dual_bound: torch.Tensor  # float64 (N,): HiGHS's proven lower bound of it (equal up to the gap)
    worst_input: torch.Tensor  # (N, *shape): an input of the set where min_margin is attained
    robust: torch.Tensor  # bool (N,): min_margin > 0


def exact_min_margin(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, threat: ThreatModel, *, time_limit: float = 60.0
) -> ExactMargins:
    """Exact minimum margin of each point over the linf ball ∩ [0, 1] (tiny ReLU networks only)."""
    if threat.norm != "linf":
        raise RobenchError(
            "exact verification supports linf balls only (an l2 ball is not a linear constraint)"
        )
    graph = trace_network(model, x[:1])
    _check_small(graph)
    rows = [_exact_point(graph, x[i : i + 1].double(), int(y[i]), threat, time_limit) for i in range(len(x))]
    margins = torch.tensor([r[0] for r in rows], dtype=torch.float64)
    duals = torch.tensor([r[1] for r in rows], dtype=torch.float64)
    worst = torch.stack([r[2] for r in rows]).to(x.dtype)
    return ExactMargins(margins, duals, worst, margins > 0)


def _check_small(graph: BoundGraph) -> None:
    for node in graph.nodes:
        if node.kind not in ("input", "affine", "relu", "add"):
            raise RobenchError(
                f"exact verification has no encoding for {node.label}; use Linear/Conv2d and ReLU"
            )
    neurons = sum(math.prod(n.shape) for n in graph.nodes)
    if neurons > MAX_NEURONS:
        raise RobenchError(
            f"exact verification is for tiny networks (at most {MAX_NEURONS} values, got {neurons})"
        )


class _Program:
    """Variables (one block per node, then the binaries) and constraint rows of one point's MILP."""

    def __init__(self, graph: BoundGraph, bounds) -> None:
        self.offsets, total = [], 0
        for node in graph.nodes:
            self.offsets.append(total)
            total += math.prod(node.shape)
        self.size = total
        self.lower = np.concatenate([_flat(b[0]) for b in bounds])
        self.upper = np.concatenate([_flat(b[1]) for b in bounds])
        self.integer: list[int] = []
        self.rows: list[tuple[np.ndarray, np.ndarray, np.ndarray, int]] = []
        self.row_lower: list[np.ndarray] = []
        self.row_upper: list[np.ndarray] = []

    def block(self, index: int, count: int) -> np.ndarray:
        return self.offsets[index] + np.arange(count)

    def add_rows(self, entries: list[tuple[np.ndarray, np.ndarray, np.ndarray]], low, high) -> None:
        """entries: (row, column, value) triples; rows numbered from 0 for this group."""
        r = np.concatenate([e[0] for e in entries])
        c = np.concatenate([e[1] for e in entries])
        v = np.concatenate([e[2] for e in entries])
        self.rows.append((r, c, v, len(low)))
        self.row_lower.append(np.asarray(low, dtype=float))
        self.row_upper.append(np.asarray(high, dtype=float))

    def matrix(self) -> sparse.csr_matrix:
        blocks = [sparse.coo_matrix((v, (r, c)), shape=(n, self.size)) for r, c, v, n in self.rows]
        return sparse.vstack(blocks).tocsr()

    def new_binaries(self, count: int) -> np.ndarray:
        start = self.size
        self.size += count
        self.lower = np.concatenate([self.lower, np.zeros(count)])
        self.upper = np.concatenate([self.upper, np.ones(count)])
        self.integer.extend(range(start, start + count))
        return np.arange(start, start + count)


def _flat(t: torch.Tensor) -> np.ndarray:
    return t.detach().double().flatten().numpy()


def _exact_point(graph, x, label, threat, time_limit):
    region = InputRegion.around(x, threat)
    with torch.no_grad():
        bounds = crown_bounds(graph, region, interval_bounds(graph, region))
    widened = [(lo - _WIDEN * (1 + lo.abs()), hi + _WIDEN * (1 + hi.abs())) for lo, hi in bounds]
    widened[0] = bounds[0]  # the input box is exact
    program = _Program(graph, widened)
    for node in graph.nodes[1:]:
        _encode(program, graph, node, bounds)
    return _solve(program, graph, label, time_limit)


def _encode(program: _Program, graph: BoundGraph, node, bounds) -> None:
    n = math.prod(node.shape)
    out = program.block(node.index, n)
    ids = np.arange(n)
    if node.kind == "affine":
        matrix, bias = _affine_matrix(node, graph)
        source = program.block(node.inputs[0], matrix.shape[1])
        m = sparse.coo_matrix(-matrix)
        entries = [(ids, out, np.ones(n)), (m.row, source[m.col], m.data)]
        program.add_rows(entries, bias, bias)
    elif node.kind == "add":
        a, b = (program.block(i, n) for i in node.inputs)
        program.add_rows(
            [(ids, out, np.ones(n)), (ids, a, -np.ones(n)), (ids, b, -np.ones(n))], np.zeros(n), np.zeros(n)
        )
    else:
        _encode_relu(program, node, program.block(node.inputs[0], n), out, bounds[node.inputs[0]])


def _encode_relu(program: _Program, node, source, out, bounds) -> None:
    lo, hi = _flat(bounds[0]), _flat(bounds[1])
    active, inactive = lo >= 0, hi <= 0
    unstable = ~(active | inactive)
    n = len(lo)
    ids = np.arange(n)
    fixed = np.where(active, 1.0, 0.0)  # y = x (active), y = 0 (inactive); unstable rows left free below
    stable = ids[~unstable]
    if len(stable):
        k = np.arange(len(stable))
        program.add_rows(
            [(k, out[stable], np.ones(len(stable))), (k, source[stable], -fixed[stable])],
            np.zeros(len(stable)),
            np.zeros(len(stable)),
        )
    idx = ids[unstable]
    if not len(idx):
        return
    k, count = np.arange(len(idx)), len(idx)
    binary = program.new_binaries(count)
    ones = np.ones(count)
    program.add_rows([(k, out[idx], ones), (k, source[idx], -ones)], np.zeros(count), np.full(count, np.inf))
    program.add_rows([(k, out[idx], ones)], np.zeros(count), np.full(count, np.inf))
    program.add_rows([(k, out[idx], ones), (k, binary, -hi[idx])], np.full(count, -np.inf), np.zeros(count))
    program.add_rows(
        [(k, out[idx], ones), (k, source[idx], -ones), (k, binary, -lo[idx])],
        np.full(count, -np.inf),
        -lo[idx],
    )


def _affine_matrix(node, graph: BoundGraph) -> tuple[np.ndarray, np.ndarray]:
    """The op as (out, in) matrix and bias, by applying its linear part to the identity basis."""
    in_shape = graph.nodes[node.inputs[0]].shape
    d = math.prod(in_shape)
    with torch.no_grad():
        basis = torch.eye(d, dtype=torch.float64).view(d, *in_shape)
        columns = node.op.linear(basis).reshape(d, -1)
        bias = node.op.bias(basis).reshape(-1)
    return columns.T.numpy(), bias.numpy()


def _solve(program: _Program, graph: BoundGraph, label: int, time_limit: float):
    constraints = LinearConstraint(
        program.matrix(), np.concatenate(program.row_lower), np.concatenate(program.row_upper)
    )
    integrality = np.zeros(program.size)
    integrality[program.integer] = 1
    logits = program.block(graph.output, graph.nodes[graph.output].shape[0])
    best, best_dual, best_x = math.inf, math.inf, None
    for j in range(len(logits)):
        if j == label:
            continue
        c = np.zeros(program.size)
        c[logits[label]], c[logits[j]] = 1.0, -1.0
        result = milp(
            c,
            integrality=integrality,
            bounds=Bounds(program.lower, program.upper),
            constraints=constraints,
            options={"time_limit": time_limit, "mip_rel_gap": 1e-9},
        )
        if result.status != 0 or result.x is None:
            raise RobenchError(f"exact verification did not finish ({result.message})")
        if result.fun < best:
            best, best_x = float(result.fun), result.x
        dual = getattr(result, "mip_dual_bound", None)  # None when nothing is integer (an LP)
        best_dual = min(best_dual, float(result.fun if dual is None else dual))
    shape = graph.input_shape
    worst = torch.from_numpy(best_x[: math.prod(shape)].copy()).view(shape)
    return best, best_dual, worst
