"""Spec parsing, settings overrides, documented defaults and clear errors."""

from __future__ import annotations

import pytest
import torch

from robench.attacks import ATTACKS, build_attack, parse_spec
from robench.errors import AttackError, RobenchError
from robench.threat import ThreatModel

LINF = ThreatModel("linf", 8 / 255)


@pytest.mark.parametrize(
    ("spec", "cls", "steps", "restarts"),
    [
        ("fgsm", "FGSM", 1, 1),
        ("fgsm-rs", "FGSMRandomStart", 1, 1),
        ("pgd-7", "PGD", 7, 1),
        ("pgd-20", "PGD", 20, 1),
        ("pgd-100", "PGD", 100, 5),
        ("pgd-50x10", "PGD", 50, 10),
        ("pgd-100x1", "PGD", 100, 1),
        ("cw", "MarginPGD", 30, 1),
        ("cw-40x2", "MarginPGD", 40, 2),
    ],
)
def test_gradient_specs_build_with_documented_defaults(spec, cls, steps, restarts):
    attack = build_attack(spec, LINF)
    assert type(attack).__name__ == cls and attack.spec == spec
    assert (attack.steps, attack.restarts) == (steps, restarts)
    expected_step = {"FGSM": LINF.eps, "FGSMRandomStart": 1.25 * LINF.eps}.get(cls, 2.5 * LINF.eps / steps)
    assert attack.step_size == pytest.approx(expected_step)


def test_l2_cw_is_the_carlini_wagner_optimisation_which_has_no_restarts():
    attack = build_attack("cw-200", ThreatModel("l2", 0.5), binary_search_steps=4)
    assert type(attack).__name__ == "CWL2"
    assert (attack.steps, attack.binary_search_steps) == (200, 4)
    assert build_attack("cw", ThreatModel("l2", 0.5)).binary_search_steps == 6
    with pytest.raises(AttackError, match="l2 C&W has no restarts"):
        build_attack("cw-200x4", ThreatModel("l2", 0.5))


def test_external_and_black_box_specs():
    assert build_attack("autoattack", LINF).version == "standard"
    assert build_attack("autoattack-rand", LINF).version == "rand"
    assert build_attack("square", LINF).queries == 5000
    assert build_attack("square-300", LINF).queries == 300


def test_keyword_settings_override_defaults():
    attack = build_attack("pgd-20", LINF, step_size=0.01, eot_samples=8)
    assert (attack.step_size, attack.eot_samples, attack.steps) == (0.01, 8, 20)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("pdg-20", "did you mean 'pgd-20'"),
        ("autoatack", "did you mean 'autoattack'"),
        ("fgsm-5", "write it as 'fgsm'"),
        ("square-5x5", "write it as 'square-N'"),
        ("pgd-0", "at least 1"),
        ("", "non-empty"),
    ],
)
def test_bad_specs_are_one_clear_error(spec, message):
    with pytest.raises(AttackError, match=message):
        build_attack(spec, LINF)


def test_an_unknown_spec_lists_every_registered_family_with_its_counts():
    with pytest.raises(AttackError) as error:
        build_attack("apgd-dlr-100", LINF)
    known = str(error.value).split("(known: ")[1]
    assert "apgd-t[-K[xT]]" in known and "square[-N]" in known and "deepfool[-K]" in known
    assert "fgsm," in known and "fgsm[" not in known


def test_bad_settings_are_one_clear_error():
    with pytest.raises(AttackError, match="no setting 'stepsize'.*step_size"):
        build_attack("pgd-20", LINF, stepsize=0.1)
    with pytest.raises(AttackError, match="sets steps in its name"):
        build_attack("pgd-20", LINF, steps=10)
    with pytest.raises(AttackError, match="positive step_size"):
        build_attack("pgd-20", LINF, step_size=0.0)
    with pytest.raises(AttackError, match="eot_samples"):
        build_attack("cw", ThreatModel("l2", 0.5), eot_samples=4)


def test_user_attacks_by_module_path():
    spec = parse_spec("robench.attacks.pgd:PGD")
    assert spec.family == "robench.attacks.pgd:PGD"
    assert build_attack("robench.attacks.pgd:PGD", LINF, steps=3).steps == 3
    with pytest.raises(RobenchError, match="cannot import"):
        build_attack("no_such_module:Attack", LINF)


@pytest.mark.parametrize("norm", ["linf", "l2"])
@pytest.mark.parametrize("family", ATTACKS.names())
def test_every_registered_family_finds_the_analytic_answer_on_a_linear_model(family, norm):
    """Two points of a linear model (classes 0 and 1 compete; 2 and 3, far below, only make room for targeted
    attacks): one breakable inside the ball, one whose margin is twice what the ball allows. Every family,
    in either norm, must break the first and can never break the second."""
    w = torch.zeros(64)
    w[:3] = torch.tensor([1.0, -1.0, 0.5])  # an 8x8 image (Square needs room for its windows)
    weight = torch.stack([w, -w, torch.zeros(64), torch.zeros(64)])
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 4)).eval().requires_grad_(False)
    model[1].weight.copy_(weight)
    model[1].bias.copy_(torch.tensor([0.0, 0.0, -10.0, -11.0]))
    threat = ThreatModel(norm, 0.1)
    # margin z_0 - z_1 = 2 w.x; the worst case in the ball lowers it by 2 eps ||w||_dual
    dual = w.abs().sum() if norm == "linf" else w.norm()
    x = torch.full((2, 64), 0.5)
    x[:, 1] = 0.75  # on the decision boundary: w.x = 0
    x[0, 0] += 0.4 * threat.eps * dual  # margin 0.8 eps ||w||: breakable
    x[1, 0] += 2.0 * threat.eps * dual  # margin 4 eps ||w||: out of reach
    x = x.view(2, 1, 8, 8)
    y = torch.zeros(2, dtype=torch.int64)
    attack = build_attack(family, threat)
    x_adv = attack(model, x, y, torch.tensor([11, 12]))
    assert attack.threat == threat and attack.spec == family
    assert bool(threat.contains(x_adv, x).all())
    with torch.no_grad():
        assert (model(x_adv).argmax(1) != y).tolist() == [True, False]
