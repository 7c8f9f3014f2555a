"""CROWN-IBP certified training (Zhang et al. 2020).

As IBP training (``robench.training.recipes.ibp``), but the worst-case logits come from the mixture
beta * CROWN-IBP + (1 - beta) * IBP of the margin lower bounds (IBP bounds for the hidden layers, one
CROWN backward pass for the margins), with beta falling linearly from 1 to 0 over the same ramp.
"""

from __future__ import annotations

import torch

from robench.certify.bounds import ibp_margins, specification
from robench.certify.crown import Relaxations, backward_lower
from robench.certify.ibp import interval_bounds
from robench.certify.region import InputRegion
from robench.training.recipes.ibp import IBPRecipe


class CrownIBPRecipe(IBPRecipe):
    name = "crown-ibp"
    paper = "Zhang et al. 2020"
    bound = "crown-ibp"

    def margins(self, graph, region: InputRegion, y: torch.Tensor) -> torch.Tensor:
        beta = 1.0 - self.ramp_position()
        num_classes = graph.nodes[graph.output].shape[0]
        spec = specification(y, num_classes, region.center.dtype)
        bounds = interval_bounds(graph, region)
        ibp = ibp_margins(graph, bounds, spec)
        if beta <= 0:
            return ibp
        crown = backward_lower(graph, graph.output, spec, Relaxations(graph, bounds), region)
        return beta * crown + (1.0 - beta) * ibp
