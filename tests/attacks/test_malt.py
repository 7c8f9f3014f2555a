"""Targeted APGD on MALT-ranked targets: known answers on a linear model, where the linearised distance
to each target's boundary is exact."""

from __future__ import annotations

import pytest
import torch

from robench.attacks import build_attack, parse_spec
from robench.attacks.malt import ranked_targets
from robench.core.counting import CountingModel
from robench.core.seeding import point_seeds
from robench.errors import AttackError
from robench.threat import ThreatModel

EPS = 0.05


@pytest.fixture(scope="module")
def linear_case():
    """A 6-class linear model on 16 inputs near 0.5 (the box never binds at EPS) and the exact L-inf
    distance of every point to every class's boundary, (z_y - z_t) / ||w_y - w_t||_1."""
    generator = torch.Generator().manual_seed(0)
    weight = torch.randn(6, 16, generator=generator) * torch.linspace(0.3, 3.0, 6)[:, None]
    model = torch.nn.Linear(16, 6)
    model.weight.data, model.bias.data = weight, torch.zeros(6)
    model.requires_grad_(False)
    x = 0.5 + 0.1 * (torch.rand(400, 16, generator=generator) * 2 - 1)
    with torch.no_grad():
        logits = model(x)
    y = logits.argmax(1)
    gaps = logits.gather(1, y[:, None]) - logits
    norms = (weight[y][:, None, :] - weight[None]).abs().sum(-1)
    distance = (gaps / norms.clamp_min(1e-12)).scatter(1, y[:, None], float("inf"))
    return model, x, y, distance


def test_malt_ranks_targets_by_the_linearised_distance(linear_case):
    model, x, y, distance = linear_case
    ranked = ranked_targets(model, x, y, ThreatModel("linf", EPS), candidates=5, ranking="malt")
    by_logit = ranked_targets(model, x, y, ThreatModel("linf", EPS), candidates=5, ranking="logits")
    assert torch.equal(ranked, distance.argsort(1)[:, :5])
    assert (ranked[:, 0] != by_logit[:, 0]).float().mean() > 0.1  # logits often pick another first target


def test_one_malt_target_breaks_exactly_the_breakable_points(linear_case):
    model, x, y, distance = linear_case
    best = distance.min(1).values
    clear = (best < 0.9 * EPS) | (best > 1.1 * EPS)  # leave out points on the edge of the budget
    threat = ThreatModel("linf", EPS)
    seeds = point_seeds(0, list(range(x.shape[0])), 0)
    results = {}
    for ranking in ("malt", "logits"):
        attack = build_attack("apgd-t-30x1", threat, ranking=ranking)
        with torch.no_grad():
            results[ranking] = model(attack(model, x, y, seeds)).argmax(1) != y
    assert torch.equal(results["malt"][clear], (best < EPS)[clear])
    assert 50 < int((best < EPS).sum()) < 350
    assert not results["logits"][best > EPS].any()  # no target can cross a boundary out of reach


def test_targets_after_the_first_attack_only_survivors(linear_case):
    model, x, y, distance = linear_case
    counted = CountingModel(model)
    build_attack("apgd-t-5x3", ThreatModel("linf", 1e-4))(counted, x, y, point_seeds(0, list(range(400)), 0))
    # ranking: 1 forward + 5 backward (candidates = max(9, 3) capped at K - 1 = 5); 3 targets x (1 + 5) steps
    assert counted.count().forward == 400 * (1 + 3 * 6) and counted.count().backward == 400 * (5 + 3 * 6)


def test_spec_and_class_count():
    assert parse_spec("apgd-t-100x3").settings == {"steps": 100, "targets": 3}
    three = torch.nn.Linear(4, 3)
    with pytest.raises(AttackError, match="at least 4 classes"):
        build_attack("apgd-t", ThreatModel("linf", 0.1))(three, torch.rand(2, 4), torch.tensor([0, 1]))
