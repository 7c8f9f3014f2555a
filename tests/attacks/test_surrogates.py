"""Surrogate gradients with known answers: straight-through (BPDA) equals the hand-written straight-through
model's gradient, tracing names the replaced operations, finite differences reproduce autograd on an
honest network and SPSA points the same way."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from robench.attacks.finite_differences import FiniteDifferences
from robench.attacks.spsa import SPSAEstimate
from robench.attacks.straight_through import StraightThrough
from robench.attacks.tracing import trace_masking

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "diagnostics"))
from broken_models import Masked  # noqa: E402


@pytest.fixture(scope="module")
def honest(tiny_digits_model):
    return tiny_digits_model


@pytest.fixture(scope="module")
def points(digits_test):
    return digits_test.images[:12], digits_test.labels[:12]


def true_class_gradient(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor | None:
    x = x.clone().requires_grad_(True)
    out = model(x)
    if not out.requires_grad:
        return None
    return torch.autograd.grad(out.gather(1, y[:, None]).sum(), x)[0]


@pytest.mark.parametrize(
    ("mask", "replaced"), [("quantize", "round"), ("binarize", "gt"), ("detach", "detach")]
)
def test_straight_through_is_the_hand_written_bpda(mask, replaced, honest, points):
    x, y = points
    model = Masked(honest, mask)
    surrogate = StraightThrough(model)
    assert torch.equal(surrogate(x), model(x))  # the forward is the true one
    expected = true_class_gradient(model.straight_through(), x, y)
    assert torch.allclose(true_class_gradient(surrogate, x, y), expected, atol=1e-6)
    assert true_class_gradient(model, x, y) is None or not true_class_gradient(model, x, y).any()
    tracing = trace_masking(model, x, y)
    assert tracing.replaced == (replaced,) and tracing.via == "torch.fx" and tracing.usable


class NoGradRegion(nn.Module):
    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, x):
        with torch.no_grad():
            x = x * 1.0
        return self.net(x)


class OneHotQuantiser(nn.Module):
    """Each pixel becomes the one-hot of its nearest of 3 levels, then back to a value: argmax/one_hot."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net
        self.levels = torch.tensor([0.0, 0.5, 1.0])

    def forward(self, x):
        scores = -((x[..., None] - self.levels) ** 2) * 50
        chosen = F.one_hot(scores.argmax(-1), 3).float()
        return self.net((chosen * self.levels).sum(-1))


def test_no_grad_regions_and_one_hot_quantisers_are_bridged(honest, points):
    x, y = points
    no_grad = trace_masking(NoGradRegion(honest), x, y)
    assert "no_grad" in no_grad.replaced and no_grad.usable
    assert torch.allclose(
        true_class_gradient(StraightThrough(NoGradRegion(honest)), x, y), true_class_gradient(honest, x, y)
    )
    model = OneHotQuantiser(honest)
    assert true_class_gradient(model, x, y) is None
    tracing = trace_masking(model, x, y)
    assert {"argmax", "one_hot"} <= set(tracing.replaced) and tracing.usable
    assert torch.equal(StraightThrough(model)(x), model(x))


class LeavesTorch(nn.Module):
    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, x):
        return self.net(torch.from_numpy(np.round(x.detach().numpy() * 4) / 4))


def test_a_forward_outside_torch_cannot_be_bridged(honest, points):
    tracing = trace_masking(LeavesTorch(honest), *points)
    assert not tracing.usable and tracing.via == "forward"


def test_finite_differences_reproduce_autograd_and_see_through_a_decoy(honest, points):
    x, y = points
    exact = true_class_gradient(honest, x, y)
    estimate = true_class_gradient(FiniteDifferences(honest), x, y)
    assert float((estimate - exact).norm() / exact.norm()) < 0.05
    decoy = Masked(honest, "decoy-function")
    assert float((true_class_gradient(decoy, x, y) - exact).norm() / exact.norm()) > 0.5  # the lie
    through = true_class_gradient(FiniteDifferences(decoy), x, y)
    assert float((through - exact).norm() / exact.norm()) < 0.05


def test_spsa_points_along_the_true_gradient(honest, points):
    x, y = points
    exact = true_class_gradient(honest, x, y).flatten(1)
    estimate = true_class_gradient(SPSAEstimate(honest, torch.Generator().manual_seed(0), 256), x, y).flatten(
        1
    )
    assert float(F.cosine_similarity(estimate, exact).mean()) > 0.5
