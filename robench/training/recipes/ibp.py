"""IBP certified training (Gowal et al. 2018): loss = k CE(clean) + (1 - k) CE(IBP worst-case logits).

The worst-case logits of a point are the negated lower bounds of z_y - z_j over the eps ball (0 for the
true class), computed by interval bound propagation with the margin folded into the last layer. The
schedule follows the paper: for the first ``warmup`` fraction of the steps eps = 0 and k = 1 (clean
training); over the next ``ramp`` fraction eps grows linearly to the threat's eps and k falls linearly
to ``kappa_end``; then both stay. The training loop reports progress through :meth:`set_progress`
before every batch (without it the recipe trains at the full eps and k = kappa_end).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from robench.certify.bounds import margin_lower_bounds
from robench.certify.graph import trace_network, unwrap
from robench.certify.region import InputRegion
from robench.training.recipes.base import BatchLoss, Recipe


def worst_case_logits(margin_rows: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """(B, K) logits with 0 at y and -(lower bound of z_y - z_j) at j: their CE bounds the worst CE."""
    b, rows = margin_rows.shape
    logits = margin_rows.new_zeros(b, rows + 1)
    keep = ~F.one_hot(y, rows + 1).bool()
    return logits.masked_scatter(keep, -margin_rows)


class IBPRecipe(Recipe):
    name = "ibp"
    paper = "Gowal et al. 2018"
    default_steps = 0
    warmup = 0.05  # fraction of training with eps = 0 (clean)
    ramp = 0.5  # fraction over which eps rises to the threat's eps and kappa falls to kappa_end
    kappa_end = 0.5
    bound = "ibp"

    def __init__(self, threat, *, steps=None, step_size=None, beta=6.0) -> None:
        super().__init__(threat, steps=steps, step_size=step_size, beta=beta)
        self.fraction = 1.0
        self._graph = None
        self._graph_net = None

    def set_progress(self, global_step: int, total_steps: int) -> None:
        """Training progress before a batch: ``global_step`` steps of ``total_steps`` are done."""
        self.fraction = min(1.0, max(0.0, global_step / max(1, total_steps)))

    def ramp_position(self) -> float:
        """0 before and at the end of warm-up, 1 once the ramp is over."""
        return min(1.0, max(0.0, (self.fraction - self.warmup) / max(self.ramp, 1e-12)))

    def schedule(self) -> tuple[float, float]:
        """(eps, kappa) for the current batch."""
        t = self.ramp_position()
        return t * self.threat.eps, 1.0 - t * (1.0 - self.kappa_end)

    def describe(self) -> dict:
        return {
            "recipe": self.name,
            "bound": self.bound,
            "warmup": self.warmup,
            "ramp": self.ramp,
            "kappa_end": self.kappa_end,
        }

    def batch_loss(self, model, x, y, rng) -> BatchLoss:
        logits = model(x)  # through the (DDP) wrapper, so gradient synchronisation is set up
        eps, kappa = self.schedule()
        loss = kappa * F.cross_entropy(logits.float(), y)
        if kappa < 1.0 and eps > 0:
            region = InputRegion(x, self.threat.norm, eps)
            rows = self.margins(self.graph_of(model, x), region, y)
            loss = loss + (1.0 - kappa) * F.cross_entropy(worst_case_logits(rows.float(), y), y)
        return BatchLoss(loss, logits.detach())

    def margins(self, graph, region: InputRegion, y: torch.Tensor) -> torch.Tensor:
        return margin_lower_bounds(graph, region, y, "ibp")

    def graph_of(self, model, x):
        """The bound graph of the (unwrapped) network, traced once and reused while it is the same."""
        net = unwrap(model)
        if self._graph_net is not net:
            self._graph, self._graph_net = trace_network(net, x[:1]), net
        return self._graph
