"""CROWN (Zhang et al. 2018): a backward pass of linear bounds from one node to the input.

``backward_lower(graph, start, rows, ...)`` returns a lower bound of ``rows . z_start`` over the input
region for each row: the coefficients are carried backwards through every op (affine ops exactly,
ReLU and max pooling through their linear relaxations, chosen by the sign of each coefficient) and the
resulting linear function of the input is minimised over the region. Upper bounds are lower bounds of
negated rows. ``node_bounds`` runs it for selected neurons of one node, in chunks that fit in memory.
"""

from __future__ import annotations

import math

import torch

from robench.certify.graph import BoundGraph
from robench.certify.region import InputRegion
from robench.certify.work import WorkCounter

ELEMENT_BUDGET = 2**24  # most elements of one coefficient tensor (a chunk of rows through one node)


class Relaxations:
    """Linear relaxations of the ReLU / max-pool nodes, made from the bounds of their inputs (cached)."""

    def __init__(self, graph: BoundGraph, bounds: list) -> None:
        self.graph, self.bounds, self._cache = graph, bounds, {}

    def __call__(self, index: int):
        if index not in self._cache:
            node = self.graph.nodes[index]
            lo, hi = self.bounds[node.inputs[0]]
            self._cache[index] = node.op.relaxation(lo, hi)
        return self._cache[index]


def backward_lower(
    graph: BoundGraph,
    start: int,
    rows: torch.Tensor,
    relaxations: Relaxations,
    region: InputRegion,
    work: WorkCounter | None = None,
) -> torch.Tensor:
    """Lower bounds (B, m) of ``rows . z_start`` for rows of shape (B, m, *shape of node start)."""
    b, m = rows.shape[:2]
    pending = {start: rows.reshape(b * m, *rows.shape[2:])}
    constant = rows.new_zeros(b, m)
    for index in range(start, 0, -1):
        coeffs = pending.pop(index, None)
        if coeffs is None:
            continue
        node = graph.nodes[index]
        if node.kind == "affine":
            bias = node.op.bias(coeffs).reshape(1, -1)
            constant = constant + (coeffs.reshape(b * m, -1) * bias).sum(-1).view(b, m)
            if work is not None:
                work.add(node.op, b * m)
            _accumulate(pending, node.inputs[0], node.op.transpose(coeffs))
        elif node.kind == "add":
            for source in node.inputs:
                _accumulate(pending, source, coeffs)
        elif node.kind == "relu":
            coeffs, shift = _through_relu(coeffs.view(b, m, *node.shape), relaxations(index))
            constant = constant + shift
            _accumulate(pending, node.inputs[0], coeffs.reshape(b * m, *node.shape))
        else:  # maxpool
            coeffs, shift = _through_maxpool(node.op, coeffs.view(b, m, *node.shape), relaxations(index))
            constant = constant + shift
            _accumulate(pending, node.inputs[0], coeffs)
    if 0 not in pending:  # the node does not depend on the input
        return constant
    return region.minimum(pending[0].view(b, m, *graph.input_shape), constant)


def _accumulate(pending: dict, index: int, coeffs: torch.Tensor) -> None:
    pending[index] = pending[index] + coeffs if index in pending else coeffs


def _through_relu(coeffs: torch.Tensor, relaxation) -> tuple[torch.Tensor, torch.Tensor]:
    lower_slope, upper_slope, upper_intercept = (t.unsqueeze(1) for t in relaxation)
    positive, negative = coeffs.clamp_min(0), coeffs.clamp_max(0)
    shift = (negative * upper_intercept).flatten(2).sum(-1)
    return positive * lower_slope + negative * upper_slope, shift


def _through_maxpool(op, coeffs: torch.Tensor, relaxation) -> tuple[torch.Tensor, torch.Tensor]:
    index, dominant, upper = relaxation  # each (B, C, L)
    b, m, c = coeffs.shape[:3]
    flat = coeffs.reshape(b, m, c, -1)
    positive, negative = flat.clamp_min(0), flat.clamp_max(0)
    dominant = dominant.unsqueeze(1).to(flat.dtype)
    shift = (negative * (1 - dominant) * upper.unsqueeze(1)).flatten(2).sum(-1)
    through = (positive + negative * dominant).reshape(b * m, c, *op.out_shape[1:])
    where = index.unsqueeze(1).expand(b, m, -1, -1).reshape(b * m, c, -1)
    return op.transpose_rows(through, where), shift


def node_bounds(
    graph: BoundGraph,
    index: int,
    wanted: torch.Tensor,
    relaxations: Relaxations,
    region: InputRegion,
    work: WorkCounter | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """CROWN lower and upper bounds (B, size) of node ``index`` where ``wanted`` (B, size) is True
    (elsewhere -inf / +inf): one pair of rows per wanted neuron of each point, in memory-sized chunks."""
    shape = graph.nodes[index].shape
    b, size = wanted.shape
    counts = wanted.sum(1)
    order = torch.argsort((~wanted).to(torch.int8), dim=1, stable=True)  # each point's wanted first
    widest = max(math.prod(n.shape) for n in graph.nodes[: index + 1])
    chunk = max(1, ELEMENT_BUDGET // (2 * b * widest))
    lower = torch.full((b, size), -math.inf, dtype=region.center.dtype, device=region.center.device)
    upper = torch.full_like(lower, math.inf)
    for start in range(0, int(counts.max()), chunk):
        positions = order[:, start : start + chunk]  # (B, k)
        valid = (start + torch.arange(positions.shape[1], device=wanted.device)) < counts.unsqueeze(1)
        eye = torch.zeros((b, positions.shape[1], size), dtype=lower.dtype, device=lower.device)
        eye.scatter_(2, positions.unsqueeze(2), valid.unsqueeze(2).to(lower.dtype))
        rows = torch.cat([eye, -eye], 1).view(b, -1, *shape)
        bound = backward_lower(graph, index, rows, relaxations, region, work)
        k = positions.shape[1]
        low, up = bound[:, :k], -bound[:, k:]
        lower.scatter_(1, positions, torch.where(valid, low, lower.gather(1, positions)))
        upper.scatter_(1, positions, torch.where(valid, up, upper.gather(1, positions)))
    return lower, upper
