"""Each recipe's training points: where they may lie, and the step each paper prescribes."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from robench.errors import RobenchError
from robench.threat import ThreatModel
from robench.training.recipes import RECIPES, RecipeRandom, build_recipe
from robench.training.recipes.base import ascend, cross_entropy_to

EPS = 0.1


class Capture(nn.Module):
    """A linear model that remembers the inputs of its last forward pass."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(16, 3))
        self.seen: list[torch.Tensor] = []

    def forward(self, x):
        self.seen.append(x.detach().clone())
        return self.net(x)


def training_points(name: str) -> tuple[torch.Tensor, torch.Tensor]:
    x = torch.rand(64, 1, 4, 4, generator=torch.Generator().manual_seed(1)) * 0.8 + 0.1
    y = torch.arange(64) % 3
    model = Capture()
    build_recipe(name, ThreatModel("linf", EPS)).batch_loss(model, x, y, RecipeRandom(torch.Generator()))
    return x, model.seen[-1]


def test_unknown_recipe_names_get_a_suggestion():
    with pytest.raises(RobenchError, match="did you mean 'fgsm-rs'"):
        RECIPES.get("fgsm_rs")


@pytest.mark.parametrize("name", RECIPES.names())
def test_every_registered_recipe_makes_a_finite_loss_with_parameter_gradients(name):
    """Each recipe's batch loss on a small CNN: a finite scalar whose backward reaches every weight."""
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Flatten(), torch.nn.Linear(16, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3)
    )
    x = torch.rand(16, 1, 4, 4, generator=torch.Generator().manual_seed(1))
    y = torch.arange(16) % 3
    recipe = build_recipe(name, ThreatModel("linf", EPS))
    recipe.set_progress(5, 10)
    out = recipe.batch_loss(net, x, y, RecipeRandom(torch.Generator().manual_seed(2)))
    assert out.loss.dim() == 0 and torch.isfinite(out.loss) and out.logits.shape == (16, 3)
    out.loss.backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in net.parameters())


@pytest.mark.parametrize("name", ["pgd", "fgsm", "fgsm-rs", "trades"])
def test_training_points_stay_in_the_eps_ball(name):
    x, x_train = training_points(name)
    distance = (x_train - x).abs().flatten(1).amax(1)
    assert bool((distance <= EPS + 1e-6).all()) and bool((distance > 0).any())


def test_fgsm_is_a_deterministic_full_step_and_standard_is_clean():
    x, x_fgsm = training_points("fgsm")
    assert torch.allclose((x_fgsm - x).abs(), torch.full_like(x, EPS), atol=1e-6)  # sign step of eps
    assert torch.equal(x_fgsm, training_points("fgsm")[1])  # no random start
    x, x_std = training_points("standard")
    assert torch.equal(x, x_std)


def test_n_fgsm_is_not_clipped_to_the_ball():
    x, x_train = training_points("n-fgsm")
    distance = (x_train - x).abs().flatten(1).amax(1)
    assert float(distance.max()) > EPS * 1.5  # noise up to 2 eps plus a step of eps
    assert float(distance.max()) <= 3 * EPS + 1e-6
    recipe = build_recipe("n-fgsm", ThreatModel("linf", EPS))
    assert (
        recipe.step_size == EPS and build_recipe("fgsm-rs", ThreatModel("linf", EPS)).step_size == 1.25 * EPS
    )


def test_pgd_defaults_and_ascent_increases_the_loss():
    recipe = build_recipe("pgd", ThreatModel("linf", EPS))
    assert (recipe.steps, recipe.step_size) == (10, pytest.approx(0.025))
    model = Capture()
    x = torch.rand(32, 1, 4, 4, generator=torch.Generator().manual_seed(2))
    y = torch.arange(32) % 3
    loss = cross_entropy_to(y)
    x_adv = ascend(model, x, x, ThreatModel("linf", EPS), steps=5, step_size=0.025, loss_of_logits=loss)
    with torch.no_grad():
        assert float(loss(model(x_adv))) > float(loss(model(x)))
    assert all(p.grad is None for p in model.parameters())  # inner steps never touch parameter grads
