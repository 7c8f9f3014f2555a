"""The l2 threat model against the reference libraries: AutoAttack (pyautoattack) and C&W L2 (foolbox)."""

from __future__ import annotations

import warnings

import pytest
import torch
from attack_toys import Counting
from test_references import linear_digits_classifier

from robench.attacks import build_attack
from robench.attacks.external import batch_seed
from robench.threat import ThreatModel


def fooled(model, x_adv, y) -> torch.Tensor:
    with torch.no_grad():
        return model(x_adv).argmax(1) != y


@pytest.mark.slow
def test_l2_autoattack_stage_gives_pyautoattacks_decision_per_point(digits_test):
    from pyautoattack import AutoAttack

    model = linear_digits_classifier(digits_test)
    x, y, seeds = digits_test.images[:12], digits_test.labels[:12], digits_test.indices[:12]
    threat = ThreatModel("l2", 0.5)
    ours = build_attack("autoattack", threat)(model, x, y, seeds)
    reference = AutoAttack(model, norm="L2", eps=threat.eps, version="standard", seed=batch_seed(seeds))
    theirs, _ = reference.run_standard_evaluation(x, y, batch_size=len(x))
    assert 0 < fooled(model, ours, y).sum() < len(x)  # both kinds of points
    assert torch.equal(fooled(model, ours, y), fooled(model, theirs, y))
    assert threat.contains(ours, x).all()


def test_cw_l2_decides_as_foolbox_restricted_to_the_ball_with_fewer_passes(tiny_digits_model, digits_points):
    """Per-point early stop (a point leaves the binary search once it has an example in the ball)
    keeps foolbox's per-point decision and costs fewer passes."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # foolbox's scipy deprecation notice
        import foolbox

    x, y, seeds = (t[:24] for t in digits_points)
    threat = ThreatModel("l2", 0.75)
    ours_model = Counting(tiny_digits_model).eval()
    ours = build_attack("cw", threat)(ours_model, x, y, seeds)
    theirs_model = Counting(tiny_digits_model).eval()
    attack = foolbox.attacks.L2CarliniWagnerAttack(
        binary_search_steps=6, steps=100, stepsize=0.05, initial_const=0.01, abort_early=False
    )
    fmodel = foolbox.PyTorchModel(theirs_model, bounds=(0.0, 1.0))
    _, _, theirs = attack(fmodel, x, foolbox.criteria.Misclassification(y), epsilons=threat.eps)
    assert threat.contains(ours, x).all()
    assert 0 < theirs.sum() < len(x)  # both kinds of points
    assert torch.equal(fooled(tiny_digits_model, ours, y), theirs)
    assert theirs_model.forward_samples >= 6 * 100 * len(x)  # every point, every Adam step
    assert ours_model.forward_samples < 0.75 * theirs_model.forward_samples


def test_cw_l2_returns_x_where_it_finds_nothing():
    """A constant model cannot be fooled: every search step finds nothing, so x itself comes back."""
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(16, 3)).eval().requires_grad_(False)
    model[1].weight.zero_()
    model[1].bias.copy_(torch.tensor([1.0, 0.0, 0.0]))
    x = torch.rand(4, 1, 4, 4, generator=torch.Generator().manual_seed(0))
    y = torch.zeros(4, dtype=torch.int64)
    x_adv = build_attack("cw-5", ThreatModel("l2", 1.0), binary_search_steps=3)(model, x, y, torch.arange(4))
    assert torch.equal(x_adv, x)
