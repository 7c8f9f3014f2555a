"""The IBP and CROWN-IBP training recipes: their schedules, that their loss bounds the worst-case loss,
and that a short run of IBP training yields certifiable digits where standard training does not."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from robench.attacks import build_attack
from robench.certify import certify
from robench.models import create_model
from robench.threat import ThreatModel
from robench.training.recipes import RECIPES, RecipeRandom, build_recipe
from robench.training.recipes.ibp import worst_case_logits

THREAT = ThreatModel("linf", 0.1)


@pytest.mark.parametrize("name", ["ibp", "crown-ibp"])
def test_schedule_warms_up_then_ramps_eps_and_kappa(name):
    recipe = build_recipe(name, THREAT)
    assert RECIPES.get(name) is type(recipe) and recipe.describe()["recipe"] == name
    expected = {0: (0.0, 1.0), 5: (0.0, 1.0), 30: (0.05, 0.75), 55: (0.1, 0.5), 100: (0.1, 0.5)}
    for step, (eps, kappa) in expected.items():
        recipe.set_progress(step, 100)
        assert recipe.schedule() == pytest.approx((eps, kappa))


def test_worst_case_logits_put_zero_at_the_label_and_negated_margins_elsewhere():
    rows = torch.tensor([[1.0, 2.0], [3.0, -4.0]])
    logits = worst_case_logits(rows, torch.tensor([0, 2]))
    assert torch.equal(logits, torch.tensor([[0.0, -1.0, -2.0], [-3.0, 4.0, 0.0]]))


def _digits_batch(digits_train, n=64):
    return digits_train.images[:n], digits_train.labels[:n]


@pytest.mark.parametrize("name", ["ibp", "crown-ibp"])
def test_the_robust_loss_bounds_the_loss_anywhere_in_the_ball(name, digits_train, tiny_digits_model):
    x, y = _digits_batch(digits_train)
    recipe = build_recipe(name, THREAT)
    recipe.set_progress(1, 1)
    graph_rows = recipe.margins(recipe.graph_of(tiny_digits_model, x), _region(x), y)
    robust = F.cross_entropy(worst_case_logits(graph_rows.float(), y), y, reduction="none")
    x_adv = build_attack("pgd-20", THREAT)(tiny_digits_model, x, y)
    with torch.no_grad():
        for point in (x, x_adv):
            assert bool(
                (F.cross_entropy(tiny_digits_model(point), y, reduction="none") <= robust + 1e-4).all()
            )


def _region(x):
    from robench.certify import InputRegion

    return InputRegion.around(x, THREAT)


def test_at_zero_eps_the_loss_is_clean_cross_entropy(digits_train, tiny_digits_model):
    x, y = _digits_batch(digits_train)
    recipe = build_recipe("ibp", THREAT)
    recipe.set_progress(0, 100)
    out = recipe.batch_loss(tiny_digits_model, x, y, RecipeRandom(torch.Generator()))
    with torch.no_grad():
        assert float(out.loss) == pytest.approx(float(F.cross_entropy(tiny_digits_model(x), y)), rel=1e-6)


def _train(recipe_name: str, digits_train, steps: int = 150) -> torch.nn.Module:
    torch.manual_seed(0)
    model = create_model("small_cnn", num_classes=10, in_channels=1, width=8)
    recipe = build_recipe(recipe_name, THREAT)
    recipe.warmup, recipe.ramp = 0.0, 0.3  # a short run: reach the full eps early
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    order = torch.Generator().manual_seed(0)
    rng = RecipeRandom(torch.Generator().manual_seed(0))
    for step in range(steps):
        if hasattr(recipe, "set_progress"):
            recipe.set_progress(step, steps)
        batch = torch.randint(0, len(digits_train.labels), (64,), generator=order)
        out = recipe.batch_loss(model, digits_train.images[batch], digits_train.labels[batch], rng)
        optimizer.zero_grad()
        out.loss.backward()
        optimizer.step()
    return model.eval()


@pytest.mark.slow
def test_ibp_training_yields_certified_digits(digits_train, digits_test):
    x, y = digits_test.images[:120], digits_test.labels[:120]
    trained = certify(_train("ibp", digits_train), x, y, THREAT, method="ibp")
    standard = certify(_train("standard", digits_train), x, y, THREAT, method="ibp")
    assert trained.certified_accuracy >= 0.25
    assert standard.certified_accuracy <= 0.02
