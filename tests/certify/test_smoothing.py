"""Randomized smoothing against analytic answers: a linear binary classifier, whose p_A is
Phi(|w.x + b| / (sigma ||w||)) and whose exact l2 robust radius is |w.x + b| / ||w||."""

from __future__ import annotations

from statistics import NormalDist

import pytest
import torch
from torch import nn

from robench.certify import smoothed_certify
from robench.certify.smoothing import p_a_lower_bound, smoothed_radius
from robench.errors import RobenchError

SIGMA = 0.25


class LinearBinary(nn.Module):
    def __init__(self, w: torch.Tensor, b: float) -> None:
        super().__init__()
        self.w, self.b = w, b

    def forward(self, x):
        z = x.flatten(1) @ self.w + self.b
        return torch.stack([torch.zeros_like(z), z], 1)


class Constant(nn.Module):
    def forward(self, x):
        return torch.tensor([0.0, 1.0, 0.0]).expand(x.shape[0], 3)


def _linear_case():
    w = torch.randn(16, generator=torch.Generator().manual_seed(0))
    model = LinearBinary(w, float(-0.5 * w.sum()))
    x = torch.rand(4, 1, 4, 4, generator=torch.Generator().manual_seed(1))
    z = x.flatten(1) @ w + model.b
    return model, x, (z > 0).long(), z.abs() / w.norm()


def test_p_a_and_radius_match_the_linear_classifier():
    model, x, y, distance = _linear_case()
    certs = smoothed_certify(model, x, y, SIGMA, n=20_000, batch_size=2_000, seed=3)
    p_true = torch.tensor([NormalDist().cdf(float(d) / SIGMA) for d in distance], dtype=torch.float64)
    observed = certs.smoothed_votes.double() / certs.n
    assert bool(((observed - p_true).abs() < 4 * torch.sqrt(p_true * (1 - p_true) / certs.n)).all())
    assert bool((certs.smoothed_p_a_lower < observed).all())
    assert torch.equal(certs.smoothed_prediction, y)
    # the radius is the exact distance to the hyperplane, shrunk only by the confidence bound
    assert bool((certs.smoothed_radius_l2 <= distance.double() + 1e-9).all())
    assert bool((certs.smoothed_radius_l2 > distance.double() - 0.03).all())
    assert certs.base_forward_passes == 4 * (100 + 20_000)
    assert certs.classifier == "smoothed"


def test_a_constant_classifier_gets_the_closed_form_radius():
    x = torch.rand(2, 1, 4, 4)
    certs = smoothed_certify(Constant(), x, torch.tensor([1, 0]), SIGMA, n=1_000, alpha=0.001)
    p_low = 0.001 ** (1 / 1_000)  # one-sided Clopper-Pearson lower bound for n successes out of n
    assert torch.allclose(certs.smoothed_p_a_lower, torch.full((2,), p_low, dtype=torch.float64), atol=1e-9)
    radius = SIGMA * NormalDist().inv_cdf(p_low)
    assert torch.allclose(certs.smoothed_radius_l2, torch.full((2,), radius, dtype=torch.float64), atol=1e-8)
    assert certs.smoothed_certified_accuracy([0.0, radius, radius + 1e-6]) == {
        0.0: 0.5, radius: 0.5, radius + 1e-6: 0.0,
    }  # fmt: skip


def test_a_point_on_the_decision_boundary_abstains():
    model, x, _, _ = _linear_case()
    x_on = torch.full((1, 1, 4, 4), 0.5)  # w.x + b = 0 here: p_A = 1/2
    certs = smoothed_certify(model, x_on, torch.tensor([1]), SIGMA, n=5_000)
    assert bool(certs.smoothed_abstained.all()) and float(certs.smoothed_radius_l2[0]) == 0.0
    assert certs.smoothed_certified_accuracy([0.0]) == {0.0: 0.0}


def test_radius_is_monotone_in_p_a_and_abstains_at_one_half():
    grid = [0.5, 0.5 + 1e-9, 0.6, 0.75, 0.9, 0.99, 0.999999]
    radii = [smoothed_radius(p, SIGMA) for p in grid]
    assert radii[0] is None and smoothed_radius(0.3, SIGMA) is None
    assert all(a < b for a, b in zip(radii[1:], radii[2:], strict=False))
    assert radii[3] == pytest.approx(SIGMA * 0.6744897501960817)
    bounds = [p_a_lower_bound(k, 1_000, 0.001) for k in (500, 700, 900, 1_000)]
    assert all(a < b for a, b in zip(bounds, bounds[1:], strict=False)) and bounds[-1] < 1


def test_results_are_reproducible_and_batch_size_independent():
    model, x, y, _ = _linear_case()
    first = smoothed_certify(model, x, y, SIGMA, n=3_000, batch_size=1_000, seed=5)
    again = smoothed_certify(model, x, y, SIGMA, n=3_000, batch_size=170, seed=5)
    alone = smoothed_certify(model, x[2:3], y[2:3], SIGMA, n=3_000, seed=5, indices=torch.tensor([2]))
    other = smoothed_certify(model, x, y, SIGMA, n=3_000, seed=6)
    assert torch.equal(first.smoothed_votes, again.smoothed_votes)
    assert torch.equal(first.smoothed_votes[2:3], alone.smoothed_votes)
    assert not torch.equal(first.smoothed_votes, other.smoothed_votes)


@pytest.mark.parametrize(
    "kwargs,message",
    [({"sigma": 0.0}, "sigma must be positive"), ({"alpha": 0.7}, "alpha"), ({"n": 0}, "at least 1")],
)
def test_bad_settings_are_user_errors(kwargs, message):
    args = {"sigma": SIGMA} | kwargs
    with pytest.raises(RobenchError, match=message):
        smoothed_certify(Constant(), torch.rand(1, 1, 2, 2), torch.tensor([1]), **args)
