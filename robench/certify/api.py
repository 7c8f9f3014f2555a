"""``certify``: sound per-point certificates of the base model (IBP, CROWN-IBP, CROWN).

A point is certified when the lower bound of ``min_{j != y} z_y - z_j`` over the threat model's eps
ball intersected with [0, 1] is positive: no input of that set changes the prediction, so the certified
accuracy is a lower bound on the robust accuracy that any attack can measure (an upper bound).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch
from torch import nn

from robench.certify.bounds import METHODS, crown_neurons, margin_lower_bounds
from robench.certify.graph import trace_network, unwrap
from robench.certify.region import InputRegion
from robench.certify.work import WorkCounter
from robench.errors import RobenchError
from robench.threat import ThreatModel

CROWN_NEURON_LIMIT = 20_000  # full CROWN above this many intermediate neurons per point runs CROWN-IBP


@dataclass(frozen=True)
class CertifyCost:
    seconds: float  # wall-clock time of the bound computation (tracing included)
    forward_equivalents: float  # bound-propagation work, in forward passes of one point (see work.py)
    points: int

    @property
    def seconds_per_point(self) -> float:
        return self.seconds / max(1, self.points)

    @property
    def forward_equivalents_per_point(self) -> float:
        return self.forward_equivalents / max(1, self.points)


@dataclass(frozen=True)
class Certificates:
    """Per-point certificates of the base model (a lower bound on its robust accuracy)."""

    method: str  # the method that ran: "ibp", "crown-ibp" or "crown"
    requested_method: str
    threat: ThreatModel
    certified: torch.Tensor  # bool (N,): correct on x and provably on every point of the set
    margin_lower_bound: torch.Tensor  # float64 (N,): lower bound of min_{j != y} z_y - z_j over the set
    clean_correct: torch.Tensor  # bool (N,): the model's prediction on x is y
    cost: CertifyCost
    note: str = ""  # why the method that ran differs from the one requested

    @property
    def certified_accuracy(self) -> float:
        return float(self.certified.double().mean()) if self.certified.numel() else 0.0

    def __len__(self) -> int:
        return int(self.certified.numel())


def certify(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    threat: ThreatModel,
    *,
    method: str = "crown",
    batch_size: int = 32,
    dtype: torch.dtype = torch.float64,
    crown_neuron_limit: int = CROWN_NEURON_LIMIT,
) -> Certificates:
    """Certify each point of ``x`` (in [0, 1]) with label ``y`` against ``threat`` by ``method``.

    ``method="crown"`` runs full CROWN when the network has at most ``crown_neuron_limit``
    intermediate neurons per point that ReLUs or max pools read, else CROWN-IBP (``Certificates.method``
    and ``note`` say so). Bounds are computed in ``dtype`` (float64 by default, to keep rounding far
    below the margins); the model itself is not changed.
    """
    _check_inputs(x, y, method, batch_size)
    started = time.perf_counter()
    model = unwrap(model)
    graph = trace_network(model, x[:1])
    used, note = method, ""
    if method == "crown" and crown_neurons(graph) > crown_neuron_limit:
        used = "crown-ibp"
        note = (
            f"full CROWN would bound {crown_neurons(graph):,} intermediate neurons per point "
            f"(limit {crown_neuron_limit:,}); CROWN-IBP ran: IBP intermediate bounds, CROWN for the output"
        )
    work = WorkCounter(graph.forward_macs)
    margins, correct = [], []
    with torch.no_grad():
        for start in range(0, x.shape[0], batch_size):
            xb, yb = x[start : start + batch_size], y[start : start + batch_size]
            region = InputRegion.around(xb.to(dtype), threat)
            rows = margin_lower_bounds(graph, region, yb, used, work)
            margins.append(rows.min(1).values.to(torch.float64))
            correct.append(model(xb).argmax(1) == yb)
    margin = torch.cat(margins) if margins else torch.empty(0, dtype=torch.float64)
    clean = torch.cat(correct) if correct else torch.empty(0, dtype=torch.bool)
    cost = CertifyCost(time.perf_counter() - started, work.forward_equivalents, int(x.shape[0]))
    return Certificates(used, method, threat, clean & (margin > 0), margin, clean, cost, note)


def _check_inputs(x: torch.Tensor, y: torch.Tensor, method: str, batch_size: int) -> None:
    if method not in METHODS:
        raise RobenchError(f"unknown certification method '{method}' (choose {', '.join(METHODS)})")
    if batch_size < 1:
        raise RobenchError(f"certify batch size must be at least 1, got {batch_size}")
    if x.dim() < 2 or y.dim() != 1 or x.shape[0] != y.shape[0]:
        raise RobenchError(
            f"certify needs inputs (N, ...) and N labels, got {tuple(x.shape)} and {tuple(y.shape)}"
        )
    if x.shape[0] == 0:
        raise RobenchError("certify needs at least one point")
    if not bool(torch.isfinite(x).all()) or float(x.min()) < 0 or float(x.max()) > 1:
        raise RobenchError("certify needs inputs in [0, 1] (normalisation belongs inside the model)")
