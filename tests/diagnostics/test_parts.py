"""The diagnostics' parts on their own: verdict, BPDA wrapper, randomness probe, decision rules, folding."""

from __future__ import annotations

import copy
import dataclasses

import pytest
import torch
from broken_models import THREAT, BrokenCNN

from robench.core.randomness import probe_randomness
from robench.core.record import Flag
from robench.diagnostics import DiagnosticContext, run_diagnostics, verdict
from robench.diagnostics.checks.catastrophic_overfitting import _outcomes as co_outcomes
from robench.diagnostics.checks.catastrophic_overfitting import accuracy as co_accuracy
from robench.diagnostics.checks.non_monotonic_eps import allowed_rise, rising_steps
from robench.diagnostics.straight_through import StraightThrough
from robench.threat import ThreatModel


def co_accuracies(ctx) -> tuple[float, float]:
    """FGSM and PGD-20 accuracy (fractions of all points) as catastrophic_overfitting measures them."""
    fgsm, pgd = co_outcomes(ctx)
    return co_accuracy(ctx, fgsm), co_accuracy(ctx, pgd)


def test_verdict_is_unreliable_exactly_when_an_error_flag_is_present():
    warning, error = Flag("x", "warning", "m"), Flag("y", "error", "m")
    assert verdict([]) == "reliable"
    assert verdict([warning, Flag("z", "info", "m")]) == "reliable"
    assert verdict([warning, error]) == "unreliable"
    model_finding = Flag("catastrophic_overfitting", "error", "m", finding="model")
    assert verdict([warning, model_finding]) == "reliable"  # the model is broken; the number stands
    assert verdict([model_finding, error]) == "unreliable"


def test_straight_through_keeps_outputs_and_passes_gradients_through_rounding_and_detach():
    def forward(x):
        return (torch.round(x * 4) / 4).sum(1) + x.detach().sum(1) * 2

    class Model(torch.nn.Module):
        def forward(self, x):
            return forward(x)[:, None]

    x = torch.rand(3, 5, requires_grad=True)
    wrapped = StraightThrough(Model())
    out = wrapped(x)
    assert torch.equal(out, Model()(x))
    (grad,) = torch.autograd.grad(out.sum(), x)
    assert torch.allclose(grad, torch.full_like(grad, 3.0))  # 1 through round, 2 through detach
    (plain,) = torch.autograd.grad(Model()(x).sum(), x)
    assert torch.count_nonzero(plain) == 0  # without the wrapper: rounding has zero gradient, detach none


def test_probe_randomness_separates_dropout_from_a_deterministic_model(tiny_net, digits_test):
    x = digits_test.images[:32]
    assert not probe_randomness(tiny_net, x).randomized
    probe = probe_randomness(BrokenCNN.of(tiny_net, "dropout"), x)
    assert probe.randomized and probe.repeats == 5 and probe.points == 32
    assert probe.prediction_disagreement > 0.05 and probe.max_logit_difference > 1.0


def test_non_monotonic_rule_flags_a_rise_beyond_the_tolerance_only():
    sweep = [0.075, 0.15, 0.3, 0.6, 1.0]
    assert allowed_rise(64) == pytest.approx(0.03125)
    assert rising_steps(sweep, [0.9, 0.6, 0.3, 0.0, 0.0], allowed_rise(64)) == []
    assert rising_steps(sweep, [0.9, 0.6, 0.3, 0.32, 0.0], allowed_rise(64)) == []  # one point of 64: noise
    assert rising_steps(sweep, [0.9, 0.6, 0.3, 0.5, 0.0], allowed_rise(64)) == [(0.3, 0.6)]


def test_inconsistent_record_is_flagged_robust_above_clean(tiny_net, run_evaluation, digits_test):
    result = run_evaluation(tiny_net, suite=["fgsm"], n=40, diagnostics=False)
    result.samples[0].clean_correct, result.samples[0].robust = False, True  # robust, yet not clean-correct
    with pytest.raises(AttributeError):
        result.robust_acc = result.clean_acc + 0.1  # a summary can never contradict the samples
    ctx = DiagnosticContext(model=tiny_net, data=digits_test.subset(40, 0), threat=THREAT, result=result)
    report = run_diagnostics(ctx, checks=["robust_above_clean"])
    (flag,) = report.flags
    assert flag.code == "robust_above_clean" and flag.severity == "error"
    assert flag.evidence["robust_but_clean_wrong"] == 1
    assert flag.evidence["robust_acc"] == pytest.approx(sum(s.robust for s in result.samples) / 40)
    assert result.verdict == "unreliable"


def test_consistent_record_is_not_flagged(tiny_net, run_evaluation, digits_test):
    result = run_evaluation(tiny_net, suite=["fgsm"], n=40, diagnostics=False)
    ctx = DiagnosticContext(model=tiny_net, data=digits_test.subset(40, 0), threat=THREAT, result=result)
    assert run_diagnostics(ctx, checks=["robust_above_clean"]).flags == []


def test_extra_breaks_are_folded_into_the_worst_case_with_their_cost(tiny_net, run_evaluation, digits_test):
    """A one-stage FGSM suite leaves points the diagnostics' own attacks break: they must count."""
    weak = run_evaluation(tiny_net, suite=["fgsm"], n=40, threat=ThreatModel("linf", 0.15), diagnostics=False)
    before = copy.deepcopy(weak)
    ctx = DiagnosticContext(
        model=tiny_net, data=digits_test.subset(40, 0), threat=ThreatModel("linf", 0.15), result=weak
    )
    report = run_diagnostics(ctx)
    assert report.broken, "PGD/CW restarts should break points FGSM missed"
    assert weak.robust_acc == pytest.approx(before.robust_acc - len(report.broken) / 40)
    for sample in weak.samples:
        if sample.index in report.broken:
            assert not sample.robust and sample.broken_by == report.broken[sample.index]
    summary = weak.diagnostics
    assert summary.broken == report.broken and [s.attack for s in weak.stages] == ["fgsm"]
    assert summary.cost.forward == sum(c.cost.forward for c in report.checks) > 0
    assert sum(c.broken for c in summary.checks) == len(report.broken)
    assert {c.check for c in report.checks} >= {"zero_gradients", "incomplete_optimization"}
    assert "incomplete_optimization" in {f.code for f in report.flags}


def test_probabilities_are_reattacked_through_their_logarithm(tiny_net, run_evaluation):
    """FGSM alone leaves survivors at eps 0.15; PGD on log(probabilities) must break some of them."""
    model = BrokenCNN.of(tiny_net, "softmax")
    result = run_evaluation(model, suite=["fgsm"], n=40, threat=ThreatModel("linf", 0.15))
    evidence = next(f for f in result.flags if f.code == "probabilities_output").evidence
    assert evidence["probability_rows"] == 1.0 and evidence["attacked"] > 0
    assert evidence["broken_via_log"] > 0
    assert (
        sum(by == "pgd-50 on log-probabilities" for by in (s.broken_by for s in result.samples))
        == evidence["broken_via_log"]
    )


def test_checks_reuse_the_suites_own_fgsm_and_pgd20_and_agree_with_attacking_again(
    tiny_net, run_evaluation, digits_test
):
    """A cascade starting fgsm -> pgd-20: the catastrophic-overfitting check reads its stages instead of
    attacking. Attacking again gives FGSM's accuracy exactly (FGSM has no randomness) and a PGD-20-alone
    accuracy never below the cascade's (which also counts FGSM's breaks)."""
    threat = ThreatModel("linf", 0.1)
    result = run_evaluation(tiny_net, suite=["fgsm", "pgd-20"], n=40, threat=threat, diagnostics=False)
    points = digits_test.subset(40, 0)
    reused = co_accuracies(DiagnosticContext(model=tiny_net, data=points, threat=threat, result=result))
    assert reused == pytest.approx((result.stages[0].robust_acc, result.stages[1].robust_acc))
    alone = dataclasses.replace(
        result, key=dataclasses.replace(result.key, mode="independent")
    )  # not a cascade: the check attacks itself
    fgsm, pgd = co_accuracies(DiagnosticContext(model=tiny_net, data=points, threat=threat, result=alone))
    assert fgsm == pytest.approx(reused[0]) and pgd >= reused[1] - 1e-12
    report = run_diagnostics(DiagnosticContext(model=tiny_net, data=points, threat=threat, result=result))
    assert {c.check: c.cost.passes for c in report.checks}["catastrophic_overfitting"] == 0


@pytest.mark.parametrize(
    ("suite", "reads"),
    [(["fgsm", "pgd-7", "pgd-20", "cw"], True), (["fgsm", "pgd-50", "pgd-20"], False), (["pgd-20"], False)],
)
def test_checks_read_a_ladders_short_pgd_rungs_up_to_pgd20(
    tiny_net, run_evaluation, digits_test, suite, reads
):
    """standard's opening fgsm -> pgd-7 -> pgd-20 is read like fast's fgsm -> pgd-20: FGSM's stage and
    the accuracy after the pgd-20 stage, no attack run; a longer rung in between is not a PGD-20 ladder."""
    threat = ThreatModel("linf", 0.1)
    result = run_evaluation(tiny_net, suite=suite, n=40, threat=threat, diagnostics=False)
    ctx = DiagnosticContext(model=tiny_net, data=digits_test.subset(40, 0), threat=threat, result=result)
    if reads:
        assert co_accuracies(ctx) == pytest.approx((result.stages[0].robust_acc, result.stages[2].robust_acc))
    alone = dataclasses.replace(
        copy.deepcopy(result), key=dataclasses.replace(result.key, mode="independent")
    )
    report = run_diagnostics(ctx)
    cost = {c.check: c.cost.passes for c in report.checks}
    assert (cost["catastrophic_overfitting"] == 0) is reads
    if reads:  # non_monotonic_eps attacks the sweep's other four budgets, not eps itself
        again = run_diagnostics(
            DiagnosticContext(model=tiny_net, data=digits_test.subset(40, 0), threat=threat, result=alone)
        )
        assert cost["non_monotonic_eps"] < {c.check: c.cost.passes for c in again.checks}["non_monotonic_eps"]
