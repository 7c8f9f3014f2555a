"""The work count of bound propagation, in forward-equivalent passes.

Every application of a network's affine op (Linear, Conv2d, BatchNorm, pooling, normalisation) to one
coefficient row or interval costs that op's multiply-accumulates (MACs); the counter adds them up.
``forward_equivalents`` divides the total by the MACs of one ordinary forward pass of one point, so one
forward pass of the network counts 1: IBP costs 2 per point (centre and radius), a CROWN backward pass
with m specification rows through the whole network about m, full CROWN one such pass per
intermediate neuron whose bounds it computes.
"""

from __future__ import annotations


class WorkCounter:
    def __init__(self, forward_macs: int) -> None:
        self.forward_macs = max(1, int(forward_macs))
        self.macs = 0

    def add(self, op, applications: int) -> None:
        """``applications`` rows or intervals (summed over the batch) went through ``op``."""
        self.macs += int(op.macs) * int(applications)

    @property
    def forward_equivalents(self) -> float:
        """Total work in units of one forward pass of one point."""
        return self.macs / self.forward_macs
