"""Diagnostics on a suite of custom ``Attack`` objects (Python API) whose names no spec rebuilds."""

from __future__ import annotations

import torch
from broken_models import THREAT

from robench.attacks import build_attack
from robench.attacks.base import Attack
from robench.core.seeding import point_noise
from robench.diagnostics import DiagnosticContext
from robench.diagnostics.checks.black_box_stronger import black_box_stages
from robench.threat import ThreatModel


class RandomCorners(Attack):
    """Gradient-free: the first of a few random corners of the eps ball that the model misclassifies."""

    uses_gradients = False

    def perturb(self, model, x, y, seeds):
        best = x.clone()
        for salt in range(8):
            noise = point_noise(seeds, tuple(x.shape[1:]), salt).sign() * self.threat.eps
            candidate = (x + noise).clamp(0, 1)
            with torch.no_grad():
                fooled = model(candidate).argmax(1) != y
            still = model(best).argmax(1) == y
            best[fooled & still] = candidate[fooled & still]
        return best


def test_black_box_check_uses_the_attack_objects_the_engine_ran(tiny_net, run_evaluation):
    result = run_evaluation(tiny_net, suite=[RandomCorners(THREAT, "my-corners")], n=40)
    by_custom = sum(s.broken_by == "my-corners" for s in result.samples)
    assert by_custom >= 2  # the custom stage really breaks points, so the check has something to count
    (flag,) = [f for f in result.flags if f.code == "black_box_stronger"]
    assert flag.evidence["suite_black_box_broken"] == by_custom
    assert result.verdict == "unreliable"


def test_black_box_stages_from_names_skip_those_no_spec_rebuilds(tiny_net, run_evaluation, digits_test):
    result = run_evaluation(tiny_net, suite=["fgsm"], n=20, diagnostics=False)
    result.suite_content["attacks"] = ["fgsm", "my-corners", "square-100"]
    ctx = DiagnosticContext(model=tiny_net, data=digits_test.subset(20, 0), threat=THREAT, result=result)
    assert black_box_stages(ctx) == {"square-100"}
    ctx.attacks = [RandomCorners(THREAT, "my-corners")]
    assert black_box_stages(ctx) == {"my-corners"}


def test_no_square_probe_behind_a_stage_that_already_ran_square_on_every_survivor(tiny_net, run_evaluation):
    """square-500 as a stage covers the cheap probe (500 queries); square-100 does not, so the probe runs.
    The attack objects say how many Square queries they spend (AutoAttack standard: 5000)."""
    costs = {}
    for stage in ("square-100", "square-500"):
        result = run_evaluation(tiny_net, suite=["fgsm", stage], n=40, threat=ThreatModel("linf", 0.05))
        assert result.robust_acc > 0  # survivors the probe could attack
        costs[stage] = {c.check: c.cost.passes for c in result.diagnostics.checks}["black_box_stronger"]
    assert costs["square-100"] > 0 and costs["square-500"] == 0
    assert build_attack("autoattack", THREAT).square_queries == 5000
    assert build_attack("autoattack-rand", THREAT).square_queries == 0


class ClaimsSquare(Attack):
    """Says it ran Square-5000 on every point; returns x (valid, never adversarial) or, with ``outside``,
    points outside the eps ball, which verification rejects: then it attacked nothing."""

    uses_gradients, square_queries, outside = False, 5000, False

    def perturb(self, model, x, y, seeds):
        return (x + 2 * self.threat.eps).clamp(0, 1) if self.outside else x.clone()


def test_a_stage_with_rejected_outputs_does_not_replace_the_square_probe(tiny_net, run_evaluation):
    threat, costs = ThreatModel("linf", 0.05), {}
    for outside in (False, True):
        stage = ClaimsSquare(threat, "claims-square")
        stage.outside = outside
        result = run_evaluation(tiny_net, suite=["fgsm", stage], n=40, threat=threat)
        assert result.robust_acc > 0 and (len(result.problems.rejected) > 0) is outside
        costs[outside] = {c.check: c.cost.passes for c in result.diagnostics.checks}["black_box_stronger"]
    assert costs[False] == 0 and costs[True] > 0
