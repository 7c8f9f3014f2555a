"""FGSM/PGD/CW-inf behaviour: pass counts and early stopping, kept successes, seeds, EOT, the eps ball."""

from __future__ import annotations

import copy

import pytest
import torch
from attack_toys import Counting
from torch import nn

from robench.attacks import build_attack
from robench.threat import ThreatModel

LINF = ThreatModel("linf", 0.15)


@pytest.mark.parametrize("spec", ["fgsm", "fgsm-rs", "pgd-7", "pgd-10x2", "cw-10"])
@pytest.mark.parametrize("threat", [LINF, ThreatModel("l2", 1.0)], ids=["linf", "l2"])
def test_outputs_lie_in_the_eps_ball_and_the_unit_box(tiny_digits_model, digits_points, spec, threat):
    x, y, seeds = digits_points
    x_adv = build_attack(spec, threat)(tiny_digits_model, x, y, seeds)
    assert x_adv.shape == x.shape and torch.isfinite(x_adv).all()
    assert x_adv.min() >= 0 and x_adv.max() <= 1
    assert (threat.distance(x_adv, x) <= threat.eps + 1e-6).all()
    assert torch.equal(x, digits_points[0])  # input untouched


def test_one_step_costs_one_forward_and_backward_when_nothing_breaks(tiny_digits_model, digits_points):
    x, y, seeds = digits_points
    model = Counting(tiny_digits_model)
    build_attack("pgd-20", ThreatModel("linf", 1e-4))(model, x, y, seeds)  # too small to break anything
    assert (model.forward_samples, model.backward_samples) == (20 * len(x), 20 * len(x))


def test_restarts_check_final_iterates_only_between_restarts(tiny_digits_model, digits_points):
    x, y, seeds = digits_points
    model = Counting(tiny_digits_model)
    build_attack("pgd-5x3", ThreatModel("linf", 1e-4))(model, x, y, seeds)
    assert model.backward_samples == 15 * len(x)
    assert model.forward_samples == 15 * len(x) + 2 * len(x)


def test_early_stopping_saves_passes_and_loses_no_success(tiny_digits_model, digits_points):
    x, y, seeds = digits_points
    model = Counting(tiny_digits_model)
    x_adv = build_attack("pgd-20", LINF)(model, x, y, seeds)
    with torch.no_grad():
        broken = tiny_digits_model(x_adv).argmax(1) != y
    assert broken.float().mean() > 0.5
    # each broken point stops after the step whose forward found it; robust points pay all 20 steps
    assert model.forward_samples == model.backward_samples
    assert model.forward_samples <= 20 * int((~broken).sum()) + 19 * int(broken.sum())
    assert model.forward_samples < 0.6 * 20 * len(x)


class Wavy(nn.Module):
    """2 classes; class 1 wins where sin(w.x) > 0.5: big sign steps wander in and out of that region."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.w = torch.randn(dim, generator=torch.Generator().manual_seed(3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = torch.sin(x.flatten(1) @ self.w)
        return torch.stack([torch.zeros_like(z), 2 * z - 1], 1)


def test_a_success_found_at_any_step_is_kept():
    model, eps, steps, alpha = Wavy(64), 0.3, 10, 0.2
    x = 0.3 + 0.4 * torch.rand(400, 1, 8, 8, generator=torch.Generator().manual_seed(1))
    x = x[model(x).argmax(1) == 0]
    y = torch.zeros(len(x), dtype=torch.long)
    threat = ThreatModel("linf", eps)
    x_adv = build_attack("pgd-10", threat, step_size=alpha, random_start=False)(model, x, y, None)
    # the same iteration without early stopping: which points were ever misclassified, which at the end
    ever, current = torch.zeros(len(x), dtype=torch.bool), x.clone()
    for _ in range(steps + 1):
        ever |= model(current).argmax(1) == 1
        current = current.requires_grad_(True)
        loss = nn.functional.cross_entropy(model(current), y, reduction="sum")
        (grad,) = torch.autograd.grad(loss, current)
        current = threat.project(current.detach() + alpha * grad.sign(), x)
    final = model(threat.project(current, x)).argmax(1) == 1
    assert (ever & ~final).sum() > 10  # plain PGD would lose these ("silent success")
    fooled = model(x_adv).argmax(1) == 1
    assert torch.equal(fooled, ever)


@pytest.mark.parametrize("spec", ["fgsm-rs", "pgd-10x2", "cw-10"])
def test_same_seeds_give_the_same_points_whatever_the_batch_split(tiny_digits_model, digits_points, spec):
    x, y, seeds = digits_points
    attack = build_attack(spec, LINF)
    whole = attack(tiny_digits_model, x, y, seeds)
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(0))
    parts = torch.empty_like(whole)
    for chunk in (order[:5], order[5:29], order[29:]):
        parts[chunk] = attack(tiny_digits_model, x[chunk], y[chunk], seeds[chunk])
    assert torch.allclose(parts, whole, atol=1e-6)
    other = attack(tiny_digits_model, x, y, seeds + 1)
    assert not torch.allclose(other, whole)


class NoisyLogits(nn.Module):
    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x + 0.05 * torch.randn_like(x))


def test_eot_averages_over_that_many_forward_backward_passes(tiny_digits_model, digits_points):
    x, y, seeds = digits_points
    model = Counting(NoisyLogits(tiny_digits_model))
    build_attack("pgd-3", ThreatModel("linf", 1e-4), eot_samples=4)(model, x[:8], y[:8], seeds[:8])
    assert (model.forward_samples, model.backward_samples) == (3 * 4 * 8, 3 * 4 * 8)


def test_a_model_without_gradients_does_not_crash_the_attack(digits_points):
    x, y, seeds = digits_points

    class Detached(nn.Module):
        def forward(self, x):
            return torch.nn.functional.one_hot(y[: len(x)] * 0, 10).float() + x.detach().flatten(1)[:, :10]

    x_adv = build_attack("pgd-5", LINF)(Detached(), x, y, seeds)
    assert LINF.contains(x_adv, x).all()


@pytest.mark.parametrize("threat", [LINF, ThreatModel("l2", 1.0)], ids=["linf", "l2"])
def test_pgd_without_random_start_is_the_textbook_iteration_point_by_point(
    tiny_digits_model, digits_points, threat
):
    """The known answer: x_{t+1} = proj(x_t + step * sign(grad) [linf] or grad/||grad|| [l2]) from x,
    each point frozen at its first misclassified iterate, else the last one."""
    model = copy.deepcopy(tiny_digits_model).double()  # float64: no sign flips from rounding noise
    x, y, seeds = digits_points
    x = x.double()
    steps, step = 7, 2.5 * threat.eps / 7
    x_adv = build_attack("pgd-7", threat, random_start=False)(model, x, y, seeds)
    expected = []
    for i in range(len(x)):
        point, target = x[i : i + 1].clone(), y[i : i + 1]
        for _ in range(steps):
            point.requires_grad_(True)
            logits = model(point)
            if logits.argmax(1).item() != target.item():
                break
            (grad,) = torch.autograd.grad(nn.functional.cross_entropy(logits, target), point)
            move = grad.sign() if threat.norm == "linf" else grad / grad.norm().clamp_min(1e-12)
            point = threat.project(point.detach() + step * move, x[i : i + 1])
        expected.append(point.detach())
    assert torch.allclose(x_adv, torch.cat(expected), atol=1e-9)
    with torch.no_grad():
        broken = model(x_adv).argmax(1) != y
    assert 0 < int(broken.sum()) < len(x)  # the case is informative: some points break, some do not
