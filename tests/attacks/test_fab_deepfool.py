"""FAB-T (pyautoattack) and DeepFool (foolbox) with per-point early stop: the same per-point decisions as
the libraries' own runs on the same points, for fewer passes."""

from __future__ import annotations

import warnings

import pytest
import torch

from robench.attacks import build_attack
from robench.core.counting import CountingModel
from robench.threat import ThreatModel


@pytest.fixture(scope="module")
def pgd_points(digits_test):
    from robench.models.loading import load_model

    model = load_model("digits/linf/pgd").module
    x, y = digits_test.images[:96], digits_test.labels[:96]
    with torch.no_grad():
        correct = model(x).argmax(1) == y
    return model, x[correct], y[correct]


def in_ball_broken(model, x_adv, x, y, threat):
    with torch.no_grad():
        return (model(x_adv).argmax(1) != y) & threat.contains(x_adv, x)


def test_fab_t_decides_as_pyautoattack(pgd_points):
    from pyautoattack.fab_pt import FABAttack_PT

    model, x, y = pgd_points
    threat = ThreatModel("linf", 0.3)
    counted = CountingModel(model)
    ours = build_attack("fab-t-30x2", threat)(counted, x, y)
    reference = CountingModel(model)
    fab = FABAttack_PT(reference, norm="Linf", n_restarts=1, n_iter=30, eps=0.3, seed=0, targeted=True,
                       n_target_classes=2, device=x.device)  # fmt: skip
    theirs = fab.perturb(x, y)
    ours_broken = in_ball_broken(model, ours, x, y, threat)
    assert torch.equal(ours_broken, in_ball_broken(model, theirs, x, y, threat))
    assert 10 < int(ours_broken.sum()) < x.shape[0] - 10
    assert counted.count().backward < 0.8 * reference.count().backward


@pytest.mark.parametrize(("norm", "eps"), [("linf", 0.3), ("linf", 0.1), ("l2", 1.0)])
def test_deepfool_decides_as_foolbox(pgd_points, norm, eps):
    import foolbox

    model, x, y = pgd_points
    threat = ThreatModel(norm, eps)
    counted = CountingModel(model)
    ours = build_attack("deepfool", threat)(counted, x, y)
    reference = CountingModel(model).eval()  # the model is in eval mode already; foolbox checks the wrapper
    kind = foolbox.attacks.LinfDeepFoolAttack if norm == "linf" else foolbox.attacks.L2DeepFoolAttack
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fmodel = foolbox.PyTorchModel(reference, bounds=(0.0, 1.0))
        _, _, success = kind()(fmodel, x, foolbox.criteria.Misclassification(y), epsilons=eps)
    ours_broken = in_ball_broken(model, ours, x, y, threat)
    assert torch.equal(ours_broken, success) and threat.contains(ours, x).all()
    assert 5 < int(ours_broken.sum()) < x.shape[0] - 5
    assert counted.count().forward < 0.5 * reference.count().forward


def test_deepfool_runs_in_a_suite(pgd_points, digits_test):
    from robench.engine.evaluate import evaluate
    from robench.engine.settings import RunSettings

    model, _, _ = pgd_points
    settings = RunSettings(suite=["fgsm", "deepfool"], n=48)
    result = evaluate(model, digits_test, ThreatModel("linf", 0.3), settings)
    deepfool = result.stages[1]
    assert deepfool.attack == "deepfool" and deepfool.rejected == 0 and deepfool.broken > 0
    assert deepfool.attacked == result.stages[0].attacked - result.stages[0].broken
