"""Tiny networks (a few dozen ReLU neurons) on 1x4x4 inputs, small enough for exact MILP verification."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from robench.models.wrapper import Normalized


def tiny_mlp(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    net = nn.Sequential(
        nn.Flatten(), nn.Linear(16, 12), nn.ReLU(), nn.Linear(12, 10), nn.ReLU(), nn.Linear(10, 4)
    )
    return net.eval()


def tiny_conv(seed: int = 0) -> nn.Module:
    """Normalisation, two convolutions (one strided), BatchNorm in eval mode, a dense head."""
    torch.manual_seed(seed)
    net = nn.Sequential(
        nn.Conv2d(1, 3, 3, padding=1), nn.BatchNorm2d(3), nn.ReLU(),
        nn.Conv2d(3, 4, 3, stride=2, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(16, 4),
    )  # fmt: skip
    with torch.no_grad():
        bn = net[1]
        bn.running_mean.uniform_(-0.3, 0.3), bn.running_var.uniform_(0.5, 2.0)
        bn.weight.uniform_(0.5, 1.5), bn.bias.uniform_(-0.2, 0.2)
    return Normalized(net, [0.4], [0.3]).eval()


class Residual(nn.Module):
    """x -> flatten -> dense -> relu -> dense + skip -> relu -> dense, with functional ops and a view."""

    def __init__(self, seed: int = 0) -> None:
        super().__init__()
        torch.manual_seed(seed)
        self.inp, self.hidden, self.out = nn.Linear(16, 10), nn.Linear(10, 10), nn.Linear(10, 4)
        self.norm = nn.BatchNorm1d(10)
        with torch.no_grad():
            self.norm.running_mean.uniform_(-0.2, 0.2), self.norm.running_var.uniform_(0.5, 1.5)
        self.eval()

    def forward(self, x):
        h = F.relu(self.inp(x.view(x.size(0), -1)))
        h = torch.relu(self.norm(self.hidden(h)) + h)
        return self.out(h)


TOYS = {"mlp": tiny_mlp, "conv": tiny_conv, "residual": Residual}
EXACT_EPS = {"mlp": 0.1, "conv": 0.04, "residual": 0.15}  # robust and non-robust points for each toy


def toy_points(model: nn.Module, n: int = 12, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """n random 1x4x4 inputs in [0, 1] labelled with the model's own prediction (clean correct)."""
    x = torch.rand(n, 1, 4, 4, generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        return x, model(x).argmax(1)


def margins_at(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """min_{j != y} z_y - z_j at x, per point."""
    with torch.no_grad():
        z = model(x).double()
    true = z.gather(1, y[:, None]).squeeze(1)
    return true - z.scatter(1, y[:, None], -torch.inf).amax(1)
