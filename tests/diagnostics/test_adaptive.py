"""Masked models with known answers: the adaptive stage brings the printed number down to the reference.

Each ``Masked`` model (broken_models.py) wraps the zoo's PGD-trained digits CNN behind one masking
defence. The reference is computed here by hand on the same points: APGD-CE then targeted APGD (AutoAttack's
gradient attacks) through the true gradients (the honest network) or through a straight-through model
written by hand, verified on the true model; one masked model per adaptive path here (finite differences,
BPDA, the targeted DLR loss), all of them in benchmarks/adaptive.py. ``gradient_inconsistent`` fires on
the decoys and on none of the zoo's models.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from broken_models import THREAT, BrokenCNN, Masked

from robench.attacks import build_attack
from robench.core.record import ADAPTIVE
from robench.core.seeding import point_seeds
from robench.core.verify import verify
from robench.diagnostics import DiagnosticContext, run_diagnostics
from robench.models.loading import load_model
from robench.pipeline.adaptive import masking_flags

ZOO = sorted(
    p.stem for p in (Path(__file__).resolve().parents[2] / "models" / "digits" / "linf").glob("*.toml")
)
N = 60
TOLERANCE = 2 / N  # two points of 60: the reference's own attacks are one more random draw


@pytest.fixture(scope="module")
def honest():
    return load_model("digits/linf/pgd").module


def reference(model: Masked, result, data) -> float:
    """Robust accuracy on the record's points under APGD-CE then APGD-T through the true gradients (or the
    hand-written straight-through ones), each output verified on the true masked model."""
    position = {int(index): p for p, index in enumerate(data.indices.tolist())}
    rows = torch.tensor([position[s.index] for s in result.samples])
    x, y = data.images[rows], data.labels[rows]
    target = model.straight_through() if model.mask in ("quantize", "binarize") else model.net
    robust = torch.tensor([s.clean_correct for s in result.samples])
    seeds = point_seeds(0, [s.index for s in result.samples], 0)
    for spec in ("apgd-100", "apgd-t-100x9"):
        x_adv = build_attack(spec, THREAT)(target, x, y, seeds)
        robust &= ~verify(model, x, x_adv, y, THREAT).broken
    return float(robust.float().mean())


@pytest.mark.slow
@pytest.mark.parametrize("mask", ["decoy-function", "quantize", "saturate"])  # one per adaptive path
def test_adaptive_attacks_reach_the_reference_and_the_model_stays_flagged(
    mask, honest, run_evaluation, digits_test
):
    model = Masked(honest, mask)
    result = run_evaluation(model, suite="quick", n=N)
    assert result.verdict == "unreliable" and masking_flags(result)
    assert result.robust_acc <= reference(model, result, digits_test) + TOLERANCE
    evidence = next(f.evidence["adaptive"] for f in result.flags if "adaptive" in f.evidence)
    adaptive = [stage for stage in result.stages if stage.escalated_by == ADAPTIVE]
    assert [stage.attack for stage in adaptive] == list(evidence["attacks"])
    assert sum(stage.broken for stage in adaptive) == round(
        (evidence["robust_acc_before"] - result.robust_acc) * N
    )
    assert all(stage.cost.forward > 0 for stage in adaptive)
    paths = {"decoy-function": "fd-apgd-100", "quantize": "bpda-apgd-100", "saturate": "apgd-t-100x9"}
    assert paths[mask] in evidence["attacks"]
    if mask == "quantize":
        assert evidence["bpda"] == {"replaced": ["round"], "via": "torch.fx", "usable": True}


def test_gradient_inconsistent_measures_a_decoy(honest, run_evaluation, digits_test):
    for mask in ("decoy", "decoy-function"):
        model = Masked(honest, mask)
        result = run_evaluation(model, suite=["fgsm"], n=40, diagnostics=False)
        ctx = DiagnosticContext(model=model, data=digits_test.subset(40, 0), threat=THREAT, result=result)
        report = run_diagnostics(ctx, checks=["gradient_inconsistent"])
        (flag,) = report.flags
        assert flag.code == "gradient_inconsistent" and flag.severity == "error"
        assert flag.evidence["median_discrepancy"] > 0.5 and flag.evidence["dtype"] == "float64"


@pytest.mark.parametrize("name", ZOO)
def test_gradient_inconsistent_never_fires_on_the_zoo(name, run_evaluation, digits_test):
    model = load_model(f"digits/linf/{name}").module
    result = run_evaluation(model, suite=["fgsm"], n=40, diagnostics=False)
    ctx = DiagnosticContext(model=model, data=digits_test.subset(40, 0), threat=THREAT, result=result)
    before = ctx.model.count()
    assert run_diagnostics(ctx, checks=["gradient_inconsistent"]).flags == []
    assert (ctx.model.count() - before).forward > 0  # it measured (and counted) something


def test_a_reliable_model_gets_no_adaptive_stage(honest, run_evaluation):
    result = run_evaluation(honest, suite="quick", n=N)
    assert result.verdict == "reliable" and not masking_flags(result)
    assert all(stage.escalated_by != ADAPTIVE for stage in result.stages)


def test_a_detached_model_survives_the_fast_suites_focus(tiny_net, run_evaluation):
    """The focus's targeted APGD crashes on a forward without a graph: it breaks nothing there instead of
    crashing the evaluation (an extra stage, like the adaptive ones, run by run_extra_stage)."""
    result = run_evaluation(BrokenCNN.of(tiny_net, "detach"), suite="fast", n=30)
    focus = [stage for stage in result.stages if stage.escalated_by == "focus"]
    assert focus and focus[0].attacked > 0 and focus[0].broken == 0
    assert result.verdict == "unreliable"
