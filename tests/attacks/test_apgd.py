"""APGD through pyautoattack with per-point early stop: same decisions as pyautoattack, fewer passes."""

from __future__ import annotations

import pytest
import torch

from robench.attacks import build_attack
from robench.attacks.apgd import aa_start, run_apgd
from robench.attacks.early_stop import AllBroken, EarlyStop
from robench.core.counting import CountingModel
from robench.core.seeding import point_seeds
from robench.threat import ThreatModel


@pytest.fixture(scope="module")
def pgd_points(digits_test):
    """The zoo's PGD-trained digits CNN and its first 96 clean-correct test points."""
    from robench.models.loading import load_model

    model = load_model("digits/linf/pgd").module
    x, y = digits_test.images[:128], digits_test.labels[:128]
    with torch.no_grad():
        correct = model(x).argmax(1) == y
    return model, x[correct][:96], y[correct][:96], digits_test.indices[:128][correct][:96]


def broken(model, x_adv, x, y, threat):
    with torch.no_grad():
        return (model(x_adv).argmax(1) != y) & threat.contains(x_adv, x)


def test_same_decisions_as_pyautoattack_at_fewer_passes(pgd_points):
    from pyautoattack.autopgd_base import APGDAttack

    model, x, y, indices = pgd_points
    threat = ThreatModel("linf", 0.3)
    start = aa_start(threat, x, point_seeds(0, indices.tolist(), 0), 5)
    counted = CountingModel(model)
    found, ours = run_apgd(build_attack("apgd-40", threat).runner(x.device), counted, x, y, start)
    reference = APGDAttack(model, n_iter=40, norm="Linf", eps=0.3, seed=0, loss="ce", device=x.device)
    reference.init_hyperparam(x)
    theirs = reference.attack_single_run(x, y, x_init=start)[3]
    ours_broken, theirs_broken = broken(model, ours, x, y, threat), broken(model, theirs, x, y, threat)
    assert torch.equal(ours_broken, theirs_broken) and torch.equal(found, ours_broken)
    assert 20 < int(ours_broken.sum()) < 90  # a real mix of broken and robust points
    full = x.shape[0] * 41  # pyautoattack: every point, start + 40 iterations
    assert counted.count().forward == counted.count().backward < 0.7 * full


def test_a_point_that_never_breaks_costs_every_iteration(pgd_points):
    model, x, y, indices = pgd_points
    counted = CountingModel(model)
    attack = build_attack("apgd-5x3", ThreatModel("linf", 1e-4))
    x_adv = attack(counted, x, y, point_seeds(0, indices.tolist(), 0))
    assert not broken(model, x_adv, x, y, attack.threat).any()
    # 3 restarts x (start + 5 iterations) on every point, nothing else
    assert counted.count().forward == counted.count().backward == 3 * 6 * x.shape[0]


def test_results_do_not_depend_on_the_batch(pgd_points):
    model, x, y, indices = pgd_points
    attack = build_attack("apgd-10x2", ThreatModel("linf", 0.3))
    seeds = point_seeds(3, indices.tolist(), 2)
    whole = attack(model, x, y, seeds)
    halves = torch.cat([attack(model, x[:40], y[:40], seeds[:40]), attack(model, x[40:], y[40:], seeds[40:])])
    assert torch.equal(whole, halves)


def test_early_stop_freezes_broken_rows_and_raises_when_all_are():
    model = torch.nn.Linear(2, 2, bias=False)
    model.weight.data = torch.eye(2)
    y = torch.tensor([0, 0])
    stop = EarlyStop(CountingModel(model), y)
    x = torch.tensor([[1.0, 0.0], [0.0, 1.0]], requires_grad=True)  # row 1 is misclassified
    out = stop(x)
    out.sum().backward()
    assert stop.found.tolist() == [False, True] and torch.equal(stop.x_found[1], x[1].detach())
    later = stop(torch.tensor([[2.0, 0.0], [5.0, 0.0]]))  # row 1 frozen: its old logits, not recomputed
    assert later[1].tolist() == [0.0, 1.0] and stop.model.count().forward == 3
    stop(torch.tensor([[0.0, 3.0], [0.0, 0.0]]))  # row 0 breaks too
    with pytest.raises(AllBroken):
        stop(x)
