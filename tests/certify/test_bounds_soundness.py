"""Soundness of the bounds against known answers: the exact MILP minimum, sampled points, PGD, and the
closed-form margin of a linear model; CROWN never below IBP."""

from __future__ import annotations

import pytest
import torch
from certify_toys import TOYS, margins_at, toy_points
from torch import nn

from robench.attacks import build_attack
from robench.certify import METHODS, InputRegion, certify, trace_network
from robench.certify.bounds import crown_bounds
from robench.certify.ibp import interval_bounds
from robench.threat import ThreatModel


@pytest.mark.parametrize("method", METHODS)
def test_every_certified_point_is_exactly_robust(exact_case, method):
    c = exact_case
    certs = certify(c.model, c.x, c.y, c.threat, method=method)
    assert bool((certs.margin_lower_bound <= c.exact.min_margin + 1e-6).all())  # a true lower bound
    assert bool(c.exact.dual_bound[certs.certified].gt(0).all())  # proven robust by the MILP


def test_crown_is_tight_on_some_points_and_never_below_ibp(exact_case):
    c = exact_case
    ibp, crown = (certify(c.model, c.x, c.y, c.threat, method=m) for m in ("ibp", "crown"))
    assert bool((crown.margin_lower_bound >= ibp.margin_lower_bound).all())
    assert int(crown.certified.sum()) >= 1  # certifies something the MILP calls robust


def _samples(x: torch.Tensor, threat: ThreatModel, count: int) -> torch.Tensor:
    """(N * count, ...) random points of the ball ∩ [0, 1] around each x, corners included for linf."""
    g = torch.Generator().manual_seed(7)
    noise = torch.rand((x.shape[0], count, *x.shape[1:]), generator=g, dtype=x.dtype) * 2 - 1
    if threat.norm == "linf":
        noise = torch.where(noise.abs() > 0.7, noise.sign(), noise)  # many samples on the faces
        delta = threat.eps * noise
    else:
        flat = noise.flatten(2)
        delta = (threat.eps * flat / flat.norm(dim=2, keepdim=True)).view_as(noise)
    return (x.unsqueeze(1) + delta).clamp(0, 1).flatten(0, 1)


@pytest.mark.parametrize("norm,eps", [("linf", 0.1), ("l2", 0.3)])
@pytest.mark.parametrize("toy", sorted(TOYS))
def test_node_bounds_hold_every_sampled_activation(toy, norm, eps):
    model = TOYS[toy]()
    x, y = toy_points(model, n=3)
    threat = ThreatModel(norm, eps)
    graph = trace_network(model, x)
    region = InputRegion.around(x.double(), threat)
    with torch.no_grad():
        plain = interval_bounds(graph, region)
        refined = crown_bounds(graph, region, plain)
        samples = _samples(x.double(), threat, 400)
        values = [samples]
        for node in graph.nodes[1:]:
            values.append(node.op.forward(*(values[i] for i in node.inputs)))
    for bounds in (plain, refined):
        for (lower, upper), value in zip(bounds, values, strict=True):
            per_point = value.view(3, 400, *value.shape[1:])
            assert bool((per_point >= lower.unsqueeze(1) - 1e-9).all())
            assert bool((per_point <= upper.unsqueeze(1) + 1e-9).all())
    for lower, upper in zip((b[0] for b in refined), (b[1] for b in refined), strict=True):
        assert bool((lower <= upper + 1e-12).all())


@pytest.mark.parametrize("norm,eps", [("linf", 0.1), ("l2", 0.3)])
@pytest.mark.parametrize("method", METHODS)
def test_margin_bounds_lie_below_sampled_and_attacked_margins(norm, eps, method):
    model = TOYS["conv"]()
    x, y = toy_points(model, n=6)
    threat = ThreatModel(norm, eps)
    certs = certify(model, x, y, threat, method=method)
    sampled = margins_at(model, _samples(x, threat, 300), y.repeat_interleave(300)).view(6, 300).amin(1)
    attacked = margins_at(model, build_attack("pgd-20", threat)(model, x, y), y)
    assert bool((certs.margin_lower_bound <= sampled + 1e-6).all())
    assert bool((certs.margin_lower_bound <= attacked + 1e-6).all())


def _linear_case(norm: str):
    torch.manual_seed(5)
    model = nn.Sequential(nn.Flatten(), nn.Linear(16, 4)).eval()
    x = 0.3 + 0.4 * torch.rand(5, 1, 4, 4)  # the ball stays inside [0, 1]: the closed form is exact
    with torch.no_grad():
        y = model(x).argmax(1)
    w, b = model[1].weight.double(), model[1].bias.double()
    eps = 0.05 if norm == "linf" else 0.2
    dual = 1 if norm == "linf" else 2  # the dual norm's order
    expected = []
    for i in range(5):
        rows = [(w[y[i]] - w[j], b[y[i]] - b[j]) for j in range(4) if j != y[i]]
        xi = x[i].flatten().double()
        expected.append(min(r @ xi + c - eps * r.norm(p=dual) for r, c in rows))
    return model, x, y, ThreatModel(norm, eps), torch.stack(expected)


@pytest.mark.parametrize("norm", ["linf", "l2"])
@pytest.mark.parametrize("method", METHODS)
def test_linear_model_bound_is_the_closed_form(norm, method):
    model, x, y, threat, expected = _linear_case(norm)
    certs = certify(model, x, y, threat, method=method)
    assert torch.allclose(certs.margin_lower_bound, expected, atol=1e-9)


def test_pgd_never_breaks_a_certified_digit(digits_test, tiny_digits_model):
    x, y = digits_test.images[:96], digits_test.labels[:96]
    threat = ThreatModel("linf", 0.02)
    certs = certify(tiny_digits_model, x, y, threat, method="crown-ibp")
    assert int(certs.certified.sum()) >= 10
    x_adv = build_attack("pgd-20", threat)(tiny_digits_model, x, y)
    with torch.no_grad():
        still = tiny_digits_model(x_adv).argmax(1) == y
    assert bool(still[certs.certified].all())
    ibp = certify(tiny_digits_model, x, y, threat, method="ibp")
    assert bool((certs.margin_lower_bound >= ibp.margin_lower_bound).all())
