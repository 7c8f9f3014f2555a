"""The TRADES loss against values worked out by hand on a 2-input linear model."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from robench.threat import ThreatModel
from robench.training.recipes import RecipeRandom, build_recipe
from robench.training.recipes.trades import trades_kl, trades_loss


def tiny_model() -> nn.Module:
    linear = nn.Linear(2, 2)
    with torch.no_grad():
        linear.weight.copy_(torch.tensor([[1.0, -1.0], [0.5, 2.0]]))
        linear.bias.copy_(torch.tensor([0.0, 0.1]))
    return nn.Sequential(nn.Flatten(), linear)


def softmax2(a: float, b: float) -> tuple[float, float]:
    return 1 / (1 + math.exp(b - a)), 1 / (1 + math.exp(a - b))


def test_trades_loss_matches_hand_computation():
    model = tiny_model()
    x = torch.tensor([[0.2, 0.4], [0.9, 0.3]]).view(2, 1, 1, 2)
    x_adv = torch.tensor([[0.5, 0.1], [0.7, 0.6]]).view(2, 1, 1, 2)
    y = torch.tensor([1, 0])
    # logits by hand: z = (x0 - x1, 0.5 x0 + 2 x1 + 0.1)
    clean = [(0.2 - 0.4, 0.1 + 0.8 + 0.1), (0.9 - 0.3, 0.45 + 0.6 + 0.1)]
    adv = [(0.5 - 0.1, 0.25 + 0.2 + 0.1), (0.7 - 0.6, 0.35 + 1.2 + 0.1)]
    ce = kl = 0.0
    for (c0, c1), (a0, a1), label in zip(clean, adv, (1, 0), strict=True):
        ce += math.log(math.exp(c0) + math.exp(c1)) - (c1 if label == 1 else c0)
        p, q = softmax2(c0, c1), softmax2(a0, a1)
        kl += sum(pi * math.log(pi / qi) for pi, qi in zip(p, q, strict=True))
    expected = ce / 2 + 6.0 * kl / 2  # batch means; first sample alone: 0.263282 + 6 * 0.114627
    with torch.no_grad():
        got = trades_loss(model(x), model(x_adv), y, beta=6.0)
        kl_first = trades_kl(model(x[:1]), model(x_adv[:1]))
        same = trades_loss(model(x), model(x), y, beta=6.0)
    assert float(got) == pytest.approx(expected, rel=1e-5)
    assert float(kl_first) == pytest.approx(0.114627, abs=2e-6)
    assert float(same) == pytest.approx(ce / 2, rel=1e-5)


def test_trades_recipe_maximises_kl_inside_the_ball():
    model = tiny_model()
    threat = ThreatModel("linf", 0.1)
    x = torch.tensor([[0.2, 0.4], [0.9, 0.3]]).view(2, 1, 1, 2)
    y = torch.tensor([1, 0])
    recipe = build_recipe("trades", threat, steps=5)
    assert recipe.step_size == pytest.approx(2.5 * 0.1 / 5) and recipe.beta == 6.0
    out = recipe.batch_loss(model, x, y, RecipeRandom(torch.Generator().manual_seed(0)))
    # For this linear model the KL depends on x only through d = -0.5 x0 + 3 x1 and grows as d moves
    # away from its clean value, so its maximum over the ball lies at corner +(-eps, eps) or -(-eps, eps);
    # 5 steps of 0.05 from x + 0.001 N(0, 1) reach one of them for each sample.
    direction = torch.tensor([-0.1, 0.1]).view(1, 1, 1, 2)
    corners = []
    with torch.no_grad():
        for signs in ((1, 1), (1, -1), (-1, 1), (-1, -1)):
            x_corner = x + direction * torch.tensor(signs, dtype=torch.float32).view(2, 1, 1, 1)
            corners.append(float(trades_loss(model(x), model(x_corner), y, 6.0)))
        ce = float(nn.functional.cross_entropy(model(x), y))
    assert float(out.loss.detach()) > ce
    assert any(float(out.loss.detach()) == pytest.approx(c, rel=1e-5) for c in corners)
    out.loss.backward()
    assert all(p.grad is not None for p in model.parameters())
