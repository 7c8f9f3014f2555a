"""Margin lower bounds: lower bounds of ``z_y - z_j`` (j != y) over the input region, by method.

- ``ibp``: interval bounds of every node; the specification matrix is folded into the last affine op.
- ``crown-ibp``: IBP bounds for every intermediate node, a CROWN backward pass for the margins.
- ``crown``: CROWN bounds for every intermediate node that a ReLU or max pool reads (for ReLU inputs,
  only the neurons IBP leaves unstable), each intersected with its IBP bound, then CROWN for the margins.

Every method returns, per row, the larger of its own bound and plain IBP's, so CROWN's bound is never
below IBP's (both are sound, so the larger one is too).
"""

from __future__ import annotations

import math

import torch

from robench.certify.crown import Relaxations, backward_lower, node_bounds
from robench.certify.graph import BoundGraph
from robench.certify.ibp import Bounds, L2Chain, diagonal_image, interval_bounds, interval_step
from robench.certify.region import InputRegion
from robench.certify.work import WorkCounter

METHODS = ("ibp", "crown-ibp", "crown")


def specification(y: torch.Tensor, num_classes: int, dtype: torch.dtype) -> torch.Tensor:
    """Rows e_y - e_j for every j != y: shape (B, K-1, K)."""
    eye = torch.eye(num_classes, dtype=dtype, device=y.device)
    rows = eye[y].unsqueeze(1) - eye.unsqueeze(0)  # (B, K, K): row j is e_y - e_j
    keep = ~torch.nn.functional.one_hot(y, num_classes).bool()
    return rows[keep].view(y.shape[0], num_classes - 1, num_classes)


def ibp_margins(graph: BoundGraph, bounds: list[Bounds], spec: torch.Tensor, work=None, region=None):
    """Lower bounds (B, K-1) of spec . logits from IBP bounds, folding spec into the last affine op
    (for an l2 region whose last op reads the input through elementwise ops only, the exact ball bound)."""
    last = graph.nodes[graph.output]
    if last.kind != "affine":
        lo, hi = bounds[graph.output]
        return (spec.clamp_min(0) * lo.unsqueeze(1) + spec.clamp_max(0) * hi.unsqueeze(1)).sum(-1)
    b, m = spec.shape[:2]
    lo, hi = bounds[last.inputs[0]]
    folded = last.op.transpose(spec.reshape(b * m, *last.shape)).view(b, m, -1)
    if work is not None:
        work.add(last.op, b * m)
    constant = (spec.reshape(b * m, -1) * last.op.bias(spec).reshape(1, -1)).sum(-1).view(b, m)
    mid, rad = ((hi + lo) / 2).flatten(1).unsqueeze(1), ((hi - lo) / 2).flatten(1).unsqueeze(1)
    lower = (folded * mid).sum(-1) - (folded.abs() * rad).sum(-1) + constant
    diagonal = (
        diagonal_image(graph, region, last.inputs[0]) if region is not None and region.norm == "l2" else None
    )
    if diagonal is not None:
        squares, image = (t.flatten(1).unsqueeze(1) for t in diagonal)
        ball = (folded * image).sum(-1) - region.eps * (folded.square() * squares).sum(-1).sqrt() + constant
        lower = torch.maximum(lower, ball)
    return lower


def _refinable(graph: BoundGraph) -> dict[int, bool]:
    """Nodes whose bounds a ReLU or max pool reads, except those IBP already bounds as tightly as CROWN
    (one affine op of the input, after elementwise ones): index -> True when only unstable neurons
    matter (a ReLU reads the node) rather than every neuron (a max pool does)."""
    single = _single_affine_of_input(graph)
    needs: dict[int, bool] = {}
    for node in graph.nodes:
        if node.kind in ("relu", "maxpool"):
            source = node.inputs[0]
            if graph.nodes[source].kind in ("affine", "add") and not single[source]:
                needs[source] = needs.get(source, True) and node.kind == "relu"
    return needs


def _single_affine_of_input(graph: BoundGraph) -> list[bool]:
    """Per node: is it one (non-elementwise) affine op of the input after elementwise ones only? There,
    on a box, interval arithmetic is exact."""
    depth: list[int | None] = [0]  # non-elementwise affine ops between the input and the node
    for node in graph.nodes[1:]:
        before = depth[node.inputs[0]]
        if node.kind != "affine" or before is None:
            depth.append(None)
        else:
            depth.append(before + (0 if node.op.elementwise else 1))
    return [d is not None and d <= 1 for d in depth]


def crown_neurons(graph: BoundGraph) -> int:
    """Intermediate neurons of one point that full CROWN may bound (an upper limit of its passes)."""
    return sum(math.prod(graph.nodes[i].shape) for i in _refinable(graph))


def crown_bounds(graph: BoundGraph, region: InputRegion, plain: list[Bounds], work=None) -> list[Bounds]:
    """Node bounds from a forward sweep: IBP from refined inputs, CROWN for nodes ReLU/max pool read."""
    needs = _refinable(graph)
    bounds: list[Bounds] = [plain[0]]
    relaxations = Relaxations(graph, bounds)
    chain = L2Chain(region) if region.norm == "l2" else None
    for node in graph.nodes[1:]:
        lo, hi = interval_step(node, [bounds[i] for i in node.inputs], work)
        if chain is not None:
            lo, hi = chain.tighten(node, (lo, hi))
        lo, hi = torch.maximum(lo, plain[node.index][0]), torch.minimum(hi, plain[node.index][1])
        if node.index in needs:
            lo, hi = _refine(graph, node.index, (lo, hi), needs[node.index], relaxations, region, work)
        bounds.append((lo, hi))
    return bounds


def _refine(graph, index, bounds, unstable_only, relaxations, region, work) -> Bounds:
    lo, hi = (t.flatten(1) for t in bounds)
    wanted = (lo < 0) & (hi > 0) if unstable_only else torch.ones_like(lo, dtype=torch.bool)
    if not bool(wanted.any()):
        return bounds
    low, up = node_bounds(graph, index, wanted, relaxations, region, work)
    shape = bounds[0].shape
    return torch.maximum(lo, low).view(shape), torch.minimum(hi, up).view(shape)


def margin_lower_bounds(
    graph: BoundGraph, region: InputRegion, y: torch.Tensor, method: str, work: WorkCounter | None = None
) -> torch.Tensor:
    """Lower bounds (B, K-1) of z_y - z_j, j != y, over the region (differentiable in the weights)."""
    num_classes = graph.nodes[graph.output].shape[0]
    spec = specification(y, num_classes, region.center.dtype)
    plain = interval_bounds(graph, region, work)
    margins = ibp_margins(graph, plain, spec, work, region)
    if method == "ibp":
        return margins
    bounds = crown_bounds(graph, region, plain, work) if method == "crown" else plain
    if method == "crown":
        margins = torch.maximum(margins, ibp_margins(graph, bounds, spec, work, region))
    crown = backward_lower(graph, graph.output, spec, Relaxations(graph, bounds), region, work)
    return torch.maximum(margins, crown)
