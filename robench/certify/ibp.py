"""Interval bound propagation (Gowal et al. 2018) through a :class:`BoundGraph`.

Affine ops map an interval by its centre and radius (``L mid + b``, ``|L| rad``); ReLU and max pooling
are monotone, so they map the end points. For an l2 region, the first Linear/Conv2d after only
elementwise ops (the normalisation) also gets the exact ball bound ``f(x) -+ eps ||row||_2`` and keeps
the tighter of the two.
"""

from __future__ import annotations

import torch

from robench.certify.graph import BoundGraph, Node
from robench.certify.region import InputRegion
from robench.certify.work import WorkCounter

Bounds = tuple[torch.Tensor, torch.Tensor]


def interval_step(node: Node, inputs: list[Bounds], work: WorkCounter | None = None) -> Bounds:
    """The output interval of ``node`` from the intervals of its inputs."""
    op = node.op
    if node.kind == "affine":
        ((lo, hi),) = inputs
        mid, rad = (hi + lo) / 2, (hi - lo) / 2
        out_mid, out_rad = op.forward(mid), op.abs_linear(rad)
        if work is not None:
            work.add(op, 2 * lo.shape[0])
        return out_mid - out_rad, out_mid + out_rad
    if node.kind == "add":
        (la, ua), (lb, ub) = inputs
        return la + lb, ua + ub
    lo, hi = inputs[0]
    return op.interval(lo, hi)


class L2Chain:
    """Tracks, for nodes that are elementwise-affine images of the input, the squared scales and the
    image of the ball's centre, so the next Linear/Conv2d gets the exact l2 row-norm bound."""

    def __init__(self, region: InputRegion) -> None:
        self.region = region
        ones = torch.ones_like(region.center[:1])
        self.chain: dict[int, tuple[torch.Tensor, torch.Tensor]] = {0: (ones, region.center)}

    def tighten(self, node: Node, bounds: Bounds) -> Bounds:
        if node.kind != "affine" or node.inputs[0] not in self.chain:
            return bounds
        squares, center = self.chain[node.inputs[0]]
        mapped = node.op.square_linear(squares)
        if mapped is None:
            return bounds
        image = node.op.forward(center)
        if node.op.elementwise:  # scale/shift/reshape: still a diagonal image of the input
            self.chain[node.index] = (mapped, image)
            return bounds
        radius = self.region.eps * mapped.clamp_min(0).sqrt()
        lo, hi = bounds
        return torch.maximum(lo, image - radius), torch.minimum(hi, image + radius)


def diagonal_image(graph: BoundGraph, region: InputRegion, index: int):
    """(squared scales, image of the centre) when node ``index`` is an elementwise-affine image of the
    input (normalisation, reshapes), else None."""
    path = []
    while index != 0:
        node = graph.nodes[index]
        if node.kind != "affine" or not node.op.elementwise:
            return None
        path.append(node)
        index = node.inputs[0]
    squares, image = torch.ones_like(region.center[:1]), region.center
    for node in reversed(path):
        squares, image = node.op.square_linear(squares), node.op.forward(image)
    return squares, image


def interval_bounds(graph: BoundGraph, region: InputRegion, work: WorkCounter | None = None) -> list[Bounds]:
    """IBP bounds of every node (index-aligned with ``graph.nodes``)."""
    bounds: list[Bounds] = [(region.lower, region.upper)]
    chain = L2Chain(region) if region.norm == "l2" else None
    for node in graph.nodes[1:]:
        step = interval_step(node, [bounds[i] for i in node.inputs], work)
        if chain is not None:
            step = chain.tighten(node, step)
        bounds.append(step)
    return bounds
