"""The threat model every attack and every verification rests on: eps parsing, distances, projection,
steps, random starts and membership, each against a known answer."""

from __future__ import annotations

import math

import pytest
import torch

from robench.errors import RobenchError
from robench.threat import ThreatModel, parse_eps


def test_eps_is_parsed_to_the_exact_float():
    assert parse_eps("8/255") == 8 / 255 and parse_eps(" 0.3 ") == 0.3 and parse_eps(2) == 2.0
    assert parse_eps("8/255") != 0.031  # 8/255 and 0.031 are not the same number
    for bad in ("eight", "1/0", ""):
        with pytest.raises(RobenchError, match="not a number"):
            parse_eps(bad)


@pytest.mark.parametrize(
    ("norm", "eps", "message"),
    [
        ("linf", 0.0, "positive"),
        ("l2", -1.0, "positive"),
        ("linf", 1.5, "larger than"),
        ("l1", 0.1, "unknown"),
    ],
)
def test_invalid_threat_models_are_user_errors(norm, eps, message):
    with pytest.raises(RobenchError, match=message):
        ThreatModel(norm, eps)
    assert ThreatModel.parse("LINF", "4/255") == ThreatModel("linf", 4 / 255)


def test_distances_per_sample():
    x = torch.zeros(2, 1, 2, 2)
    x_adv = torch.tensor([[0.3, -0.1, 0.0, 0.4], [0.0, 0.0, 0.0, 0.0]]).view(2, 1, 2, 2)
    assert torch.allclose(ThreatModel("linf", 0.5).distance(x_adv, x), torch.tensor([0.4, 0.0]))
    assert torch.allclose(ThreatModel("l2", 0.5).distance(x_adv, x), torch.tensor([math.sqrt(0.26), 0.0]))


def test_projection_onto_the_ball_then_the_box():
    x = torch.full((1, 1, 1, 4), 0.5)
    far = torch.tensor([0.9, 0.1, 0.55, 1.7]).view(1, 1, 1, 4)
    linf = ThreatModel("linf", 0.2).project(far, x)
    assert torch.allclose(linf.flatten(), torch.tensor([0.7, 0.3, 0.55, 0.7]))
    delta = far - x  # l2: scaled onto the sphere of radius eps, then clipped to [0, 1]
    scaled = x + delta * (0.2 / delta.norm())
    l2 = ThreatModel("l2", 0.2).project(far, x)
    assert torch.allclose(l2, scaled.clamp(0, 1)) and l2.flatten()[3] <= 1
    inside = x + 0.01
    assert torch.equal(ThreatModel("l2", 0.2).project(inside, x), inside)  # already inside: unchanged


def test_steepest_ascent_steps():
    grad = torch.tensor([[3.0, -4.0, 0.0]])
    assert torch.equal(ThreatModel("linf", 0.1).step(grad, 0.05), torch.tensor([[0.05, -0.05, 0.0]]))
    assert torch.allclose(ThreatModel("l2", 0.1).step(grad, 0.5), torch.tensor([[0.3, -0.4, 0.0]]))
    assert torch.equal(ThreatModel("l2", 0.1).step(torch.zeros(1, 3), 0.5), torch.zeros(1, 3))  # no NaN


def test_random_starts_map_unit_noise_into_the_ball_and_the_box():
    x = torch.rand(50, 1, 4, 4, generator=torch.Generator().manual_seed(0))
    noise = torch.rand(50, 1, 4, 4, generator=torch.Generator().manual_seed(1)) * 2 - 1
    for threat in (ThreatModel("linf", 0.1), ThreatModel("l2", 0.5)):
        start = threat.random_start(x, noise)
        assert threat.contains(start, x).all()
    corner = torch.ones(1, 1, 1, 2)  # linf: noise of 1 reaches the ball's corner (before the box)
    assert torch.allclose(
        ThreatModel("linf", 0.1).random_start(torch.full((1, 1, 1, 2), 0.5), corner), 0.6 * corner
    )
    radius = ThreatModel("l2", 0.5).distance(
        ThreatModel("l2", 0.5).random_start(torch.full((1, 1, 1, 2), 0.5), 0.5 * corner),
        torch.full((1, 1, 1, 2), 0.5),
    )
    assert radius.item() == pytest.approx(0.25)  # the radius is eps times the largest |noise|


def test_contains_uses_the_tolerance_and_rejects_nan_and_the_box():
    x = torch.full((4, 1, 1, 1), 0.5)
    x_adv = torch.tensor([0.6 + 5e-7, 0.6 + 1e-5, float("nan"), 0.5]).view(4, 1, 1, 1)
    assert ThreatModel("linf", 0.1).contains(x_adv, x).tolist() == [True, False, False, True]
    assert not ThreatModel("linf", 0.6).contains(torch.full((1, 1, 1, 1), 1.01), x[:1]).any()
    assert str(ThreatModel("linf", 8 / 255)) == "linf eps=0.0313725"
