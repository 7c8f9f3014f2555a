"""Spec parsing, settings overrides, documented defaults and clear errors."""

from __future__ import annotations

import pytest

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


def test_l2_cw_is_the_carlini_wagner_optimisation():
    attack = build_attack("cw-200x4", ThreatModel("l2", 0.5))
    assert type(attack).__name__ == "CWL2"
    assert (attack.steps, attack.binary_search_steps) == (200, 4)


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


def test_every_registered_family_builds_for_both_norms():
    for family in ATTACKS.names():
        for threat in (LINF, ThreatModel("l2", 0.5)):
            assert build_attack(family, threat).threat == threat
