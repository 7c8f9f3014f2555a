"""Points an attack did not really attack (rejected outputs, crashes) make the verdict unreliable."""

from __future__ import annotations

from types import SimpleNamespace

import torch

from robench.attacks import build_attack
from robench.attacks.base import Attack
from robench.core.record import AttackFailure, Problems
from robench.diagnostics.checks import attack_failures
from robench.pipeline.evaluate import evaluate
from robench.threat import ThreatModel

THREAT = ThreatModel("linf", 0.3)


class OutOfBall(Attack):
    """Steps twice the budget along the gradient sign: strong, and illegal for every point."""

    family = "out-of-ball"

    def perturb(self, model, x, y, seeds):
        x = x.clone().requires_grad_(True)
        loss = torch.nn.functional.cross_entropy(model(x), y)
        (grad,) = torch.autograd.grad(loss, x)
        return (x + 2 * self.threat.eps * grad.sign()).clamp(0, 1).detach()


def test_rejected_outputs_make_the_evaluation_unreliable(tiny_digits_model, digits_test):
    data = digits_test.subset(40, seed=0)
    suite = [OutOfBall(THREAT, "out-of-ball"), build_attack("fgsm", THREAT)]
    result = evaluate(tiny_digits_model, data, THREAT, suite=suite)
    flag = next(f for f in result.flags if f.code == "attack_failures")
    clean_correct = sum(s.clean_correct for s in result.samples)
    assert result.stages[0].rejected == clean_correct  # every attacked point was rejected...
    assert flag.evidence["rejected_points"] == clean_correct  # ...and the flag counts them
    assert flag.evidence["stages"] == ["out-of-ball"]
    assert flag.severity == "error" and result.verdict == "unreliable"


def test_no_flag_when_every_attack_completed():
    ctx = SimpleNamespace(result=SimpleNamespace(problems=Problems()))
    assert attack_failures.run(ctx) == []


def test_attack_crashes_are_flagged_with_their_points():
    errors = [AttackFailure("pgd-20", [3, 8], "element 0 does not require grad")]
    ctx = SimpleNamespace(result=SimpleNamespace(problems=Problems(attack_errors=errors)))
    (flag,) = attack_failures.run(ctx)
    assert flag.evidence["attack_error_points"] == 2 and flag.evidence["stages"] == ["pgd-20"]
