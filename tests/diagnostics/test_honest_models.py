"""Honest models get no flags and the verdict `reliable`; the catastrophically overfit zoo model gets a
model finding beside its (reliable) verdict: the model is broken, its multi-step number stands.

The zoo models (models/digits/linf, trained by robench's trainer) are evaluated at their eps 0.3 with
a suite strong enough that the diagnostics' extra effort finds nothing more.
"""

from __future__ import annotations

import pytest

from robench.diagnostics.verdict import model_findings, verdict_text
from robench.models.cards import find_card
from robench.models.loading import load_model

# a strong but affordable suite: the standard ladder with more targeted-loss restarts instead of AutoAttack
STRONG = ["fgsm", "pgd-20", "pgd-100x5", "cw-100x5"]


def test_standard_tiny_model_gets_no_flags(tiny_net, run_evaluation):
    result = run_evaluation(tiny_net, n=60)
    assert result.flags == [] and result.verdict == "reliable"
    assert not tiny_net.training  # the diagnostics leave the model in the mode they found it in
    costs = {c.check: c.cost for c in result.diagnostics.checks}
    # quick starts with fgsm -> pgd-20: the catastrophic-overfitting check reads those stages (no pass),
    # the eps sweep reads them at eps and attacks at the other four eps values
    assert costs["catastrophic_overfitting"].passes == 0 and costs["non_monotonic_eps"].backward > 0
    assert costs["zero_gradients"].passes == 0  # the clean pass's gradients are all usable: nothing to redo


@pytest.mark.slow
@pytest.mark.parametrize("name", ["standard", "pgd", "trades"])
def test_zoo_honest_models_get_no_flags(name, run_evaluation):
    model = load_model(find_card(f"digits/linf/{name}")).module
    result = run_evaluation(model, suite=STRONG, n=60)
    assert result.flags == [], [(f.code, f.evidence) for f in result.flags]
    assert result.verdict == "reliable"


@pytest.mark.slow
def test_fgsm_trained_zoo_model_has_catastrophically_overfit(run_evaluation):
    model = load_model(find_card("digits/linf/fgsm")).module
    result = run_evaluation(model, suite=["fgsm", "pgd-20"], n=60)
    flag = next(f for f in result.flags if f.code == "catastrophic_overfitting")
    evidence = flag.evidence
    assert (
        evidence["fgsm_acc"] - evidence["pgd20_acc"] >= 0.25
        and evidence["pgd20_acc"] <= 0.5 * evidence["fgsm_acc"]
    )
    assert (flag.severity, flag.finding, flag.evidence["p_value"] < 0.05) == ("error", "model", True)
    assert result.verdict == "reliable" and model_findings(result.flags) == ["catastrophic_overfitting"]
    assert verdict_text(result).startswith(f"reliable (the {100 * result.robust_acc:.1f} % stands;")
