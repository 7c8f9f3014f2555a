"""Known answers on a 2-class linear model f(x) = Wx + b, where the worst case is analytic.

A correctly classified point with margin m = (w_y - w_o).x + (b_y - b_o) can be misclassified inside
the linf ball iff m < eps * ||w_y - w_o||_1 (l2 ball: eps * ||w_y - w_o||_2). Points are kept in
[0.3, 0.7] with eps < 0.1, so clipping to [0, 1] never interferes, and away from the threshold.
"""

from __future__ import annotations

import pytest
import torch
from attack_toys import Linear2

from robench.attacks import build_attack
from robench.threat import ThreatModel

DIM, N = 48, 200
EPS = {"linf": 0.015, "l2": 0.08}  # about half of the points are breakable at these budgets


def linear_problem(norm: str, seed: int = 0):
    generator = torch.Generator().manual_seed(seed)
    weight = torch.randn(2, DIM, generator=generator)
    x = 0.3 + 0.4 * torch.rand(N, 1, 6, 8, generator=generator)
    diff = weight[1] - weight[0]
    budget = EPS[norm] * (diff.abs().sum() if norm == "linf" else diff.norm())
    score = x.flatten(1) @ diff
    bias = torch.stack([torch.zeros(()), -score.median()])
    model = Linear2(weight, bias).eval()
    with torch.no_grad():
        y = model(x).argmax(1)
        logits = model(x)
    margin = (logits.gather(1, y[:, None]) - logits.gather(1, (1 - y)[:, None])).squeeze(1)
    keep = (margin - budget).abs() > 1e-3 * budget
    return model, x[keep], y[keep], margin[keep] < budget


@pytest.mark.parametrize(
    ("norm", "spec"),
    [
        ("linf", "fgsm"),
        ("linf", "pgd-7"),
        ("linf", "pgd-20"),
        ("linf", "pgd-5x3"),
        ("linf", "pgd-1x2"),
        ("linf", "cw"),
        ("l2", "fgsm"),
    ],
)
def test_attack_reaches_the_analytic_worst_case_point_by_point(norm, spec):
    model, x, y, breakable = linear_problem(norm)
    assert 0.2 < breakable.float().mean() < 0.8  # the problem has both kinds of points
    threat = ThreatModel(norm, EPS[norm])
    x_adv = build_attack(spec, threat)(model, x, y, torch.arange(len(x)))
    assert threat.contains(x_adv, x).all()
    with torch.no_grad():
        fooled = model(x_adv).argmax(1) != y
    assert torch.equal(fooled, breakable)


@pytest.mark.parametrize(
    ("norm", "spec", "settings"),
    [("linf", "fgsm-rs", {}), ("l2", "pgd-20", {}), ("l2", "cw-50", {"binary_search_steps": 4})],
)
def test_attack_never_exceeds_the_worst_case_and_finds_most_of_it(norm, spec, settings):
    """Random starts (and the l2 projection) keep these from the exact corner: sound, nearly complete."""
    model, x, y, breakable = linear_problem(norm)
    threat = ThreatModel(norm, EPS[norm])
    x_adv = build_attack(spec, threat, **settings)(model, x, y, torch.arange(len(x)))
    assert threat.contains(x_adv, x).all()
    with torch.no_grad():
        fooled = model(x_adv).argmax(1) != y
    assert not (fooled & ~breakable).any()
    assert fooled.sum() >= 0.8 * breakable.sum()
