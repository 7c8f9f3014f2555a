"""Against the reference libraries, on the same model, points and settings."""

from __future__ import annotations

import pytest
import torch

from robench.attacks import build_attack
from robench.attacks.external import batch_seed
from robench.threat import ThreatModel


def robust_accuracy(model, x_adv, y) -> float:
    with torch.no_grad():
        return (model(x_adv).argmax(1) == y).float().mean().item()


@pytest.mark.parametrize("eps", [0.1, 0.15])
def test_pgd20_is_at_least_as_strong_as_torchattacks(tiny_digits_model, digits_test, eps):
    """Same steps and step size, random start each: mean robust accuracy over three seeds on the whole
    test split (one seed on a few points differs by a couple of points either way, as two seeds of one
    attack do)."""
    import torchattacks

    model, x, y = tiny_digits_model, digits_test.images, digits_test.labels
    ours, theirs = [], []
    for seed in range(3):
        attack = build_attack("pgd-20", ThreatModel("linf", eps))
        ours.append(robust_accuracy(model, attack(model, x, y, digits_test.indices + 10_000 * seed), y))
        torch.manual_seed(seed)
        reference = torchattacks.PGD(model, eps=eps, alpha=2.5 * eps / 20, steps=20, random_start=True)
        theirs.append(robust_accuracy(model, reference(x, y), y))
    assert min(theirs) > 0.1 and max(theirs) < 0.9  # an informative operating point
    assert sum(ours) / 3 <= sum(theirs) / 3 + 0.01, (ours, theirs)


def linear_digits_classifier(digits_test) -> torch.nn.Module:
    """A 10-class linear model fitted on the digits test images: AutoAttack's fixed costs dominate, so
    this keeps the full standard AutoAttack affordable in a test."""
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 10))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.1)
    for _ in range(100):
        loss = torch.nn.functional.cross_entropy(model(digits_test.images), digits_test.labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model.eval().requires_grad_(False)


@pytest.mark.slow
def test_autoattack_stage_gives_pyautoattacks_decision_per_point(digits_test):
    from pyautoattack import AutoAttack

    model = linear_digits_classifier(digits_test)
    x, y, seeds = digits_test.images[:12], digits_test.labels[:12], digits_test.indices[:12]
    threat = ThreatModel("linf", 0.1)
    attack = build_attack("autoattack", threat)
    rng_before = torch.random.get_rng_state()
    ours = attack(model, x, y, seeds)
    assert torch.equal(torch.random.get_rng_state(), rng_before)  # AA's reseeding does not leak
    assert "robust accuracy" in attack.last_log  # its log is kept as text, not printed
    reference = AutoAttack(model, norm="Linf", eps=threat.eps, version="standard", seed=batch_seed(seeds))
    theirs, _ = reference.run_standard_evaluation(x, y, batch_size=len(x))
    with torch.no_grad():
        ours_robust = model(ours).argmax(1) == y
        theirs_robust = model(theirs).argmax(1) == y
    assert 0 < ours_robust.sum() < len(x)  # both kinds of points
    assert torch.equal(ours_robust, theirs_robust)
    assert threat.contains(ours, x).all()


def test_autoattack_is_quiet(tiny_digits_model, digits_points, capsys):
    x, y, seeds = (t[:4] for t in digits_points)
    attack = build_attack("autoattack", ThreatModel("linf", 0.5))  # breaks all points in APGD-CE
    x_adv = attack(tiny_digits_model, x, y, seeds)
    assert robust_accuracy(tiny_digits_model, x_adv, y) == 0.0
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
    assert "apgd-ce" in attack.last_log


@pytest.mark.parametrize("threat", [ThreatModel("linf", 0.3), ThreatModel("l2", 2.0)], ids=["linf", "l2"])
def test_square_is_black_box_and_stays_in_the_ball(tiny_digits_model, digits_points, threat):
    x, y, seeds = (t[:16] for t in digits_points)
    attack = build_attack("square-300", threat)
    assert not attack.uses_gradients
    x_adv = attack(tiny_digits_model, x, y, seeds)
    assert threat.contains(x_adv, x).all()
    assert robust_accuracy(tiny_digits_model, x_adv, y) < 0.5


def test_cw_l2_breaks_points_only_inside_the_ball(tiny_digits_model, digits_points):
    x, y, seeds = (t[:16] for t in digits_points)
    large, small = ThreatModel("l2", 2.0), ThreatModel("l2", 0.05)
    x_large = build_attack("cw-30", large, binary_search_steps=3)(tiny_digits_model, x, y, seeds)
    x_small = build_attack("cw-30", small, binary_search_steps=3)(tiny_digits_model, x, y, seeds)
    assert large.contains(x_large, x).all() and small.contains(x_small, x).all()
    assert robust_accuracy(tiny_digits_model, x_large, y) < 0.3
    assert robust_accuracy(tiny_digits_model, x_small, y) == 1.0
