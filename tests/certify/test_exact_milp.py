"""The MILP ground truth itself: attained at a point of the set, exact on a linear model, and never
beaten by an attack."""

from __future__ import annotations

import pytest
import torch
from certify_toys import TOYS, margins_at
from torch import nn

from robench.attacks import build_attack
from robench.certify import exact_min_margin
from robench.errors import RobenchError
from robench.threat import ThreatModel


def test_the_exact_minimum_is_attained_inside_the_set(exact_case):
    c = exact_case
    worst = c.exact.worst_input.clamp(0, 1)  # HiGHS may overshoot a bound by its feasibility tolerance
    assert bool(c.threat.contains(worst, c.x, tol=1e-5).all())
    assert torch.allclose(margins_at(c.model, worst, c.y), c.exact.min_margin, atol=1e-4)
    assert bool((c.exact.dual_bound <= c.exact.min_margin + 1e-6).all())
    assert bool((c.exact.min_margin <= margins_at(c.model, c.x, c.y) + 1e-6).all())  # x is in the set
    assert 0 < int(c.exact.robust.sum()) < len(c.x)  # the cases hold robust and non-robust points


def test_pgd_never_finds_a_smaller_margin_than_the_exact_minimum(exact_case):
    c = exact_case
    x_adv = build_attack("pgd-20", c.threat)(c.model, c.x, c.y)
    found = margins_at(c.model, x_adv, c.y)
    assert bool((found >= c.exact.min_margin - 1e-4).all())
    assert bool((~c.exact.robust[found < 0]).all())  # every point PGD breaks is exactly non-robust


def test_linear_model_matches_the_closed_form_over_the_box():
    torch.manual_seed(3)
    model = nn.Sequential(nn.Flatten(), nn.Linear(16, 3)).eval()
    threat = ThreatModel("linf", 0.08)
    x = torch.rand(4, 1, 4, 4)
    x[0, 0, 0, :] = 0.0  # pixels at the box's edge: the box cuts the ball there
    with torch.no_grad():
        y = model(x).argmax(1)
    w, b = model[1].weight.double(), model[1].bias.double()
    lower = (x - threat.eps).clamp(0, 1).flatten(1).double()
    upper = (x + threat.eps).clamp(0, 1).flatten(1).double()
    expected = []
    for i in range(len(x)):
        per_class = [
            torch.minimum((w[y[i]] - w[j]) * lower[i], (w[y[i]] - w[j]) * upper[i]).sum() + b[y[i]] - b[j]
            for j in range(3)
            if j != y[i]
        ]
        expected.append(min(per_class))
    exact = exact_min_margin(model, x, y, threat)
    assert torch.allclose(exact.min_margin, torch.stack(expected), atol=1e-6)


def test_exact_verification_refuses_what_it_cannot_encode():
    x = torch.rand(2, 1, 4, 4)
    y = torch.zeros(2, dtype=torch.long)
    with pytest.raises(RobenchError, match="linf balls only"):
        exact_min_margin(TOYS["mlp"](), x, y, ThreatModel("l2", 0.1))
    pooled = nn.Sequential(nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4, 2)).eval()
    with pytest.raises(RobenchError, match="no encoding for layer '0' \\(MaxPool2d\\)"):
        exact_min_margin(pooled, x, y, ThreatModel("linf", 0.1))
    big = nn.Sequential(nn.Flatten(), nn.Linear(16, 3000), nn.ReLU(), nn.Linear(3000, 2)).eval()
    with pytest.raises(RobenchError, match="tiny networks"):
        exact_min_margin(big, x, y, ThreatModel("linf", 0.1))
