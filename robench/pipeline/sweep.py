"""The report's eps sweep when the record measured none: PGD-20 through the engine (every adversarial
example verified) at ``SWEEP_FACTORS`` x the evaluated eps on ``SWEEP_N`` = 100 points (the
deterministic subset for the record's seed), diagnostics off. Run by ``robench submit`` and stored with
the result (``extra['eps_sweep']``), or at report time; on digits well under a second per eps.

``add_certified_sweep`` certifies the same points at the same eps values (CROWN-IBP after IBP, a few
seconds per eps on digits) for the lower curve of the report's bracket (``extra['certified_sweep']``).
"""

from __future__ import annotations

from dataclasses import asdict

from torch import nn

from robench.core.record import EvaluationResult
from robench.data import load_dataset
from robench.engine.evaluate import evaluate
from robench.engine.settings import RunSettings
from robench.pipeline.certify import SUBMIT_METHODS, certifiable, certify_points
from robench.reports.curves import EpsCurve, curve_from_record
from robench.threat import ThreatModel

SWEEP_N = 100
SWEEP_ATTACK = "pgd-20"
SWEEP_FACTORS = (0.25, 0.5, 0.75, 1.0, 1.5, 2.0)


def sweep(model: nn.Module, result: EvaluationResult, *, n: int = SWEEP_N) -> EpsCurve:
    """Robust accuracy of ``model`` (evaluation-ready) against eps around the record's, on its data."""
    dataset = load_dataset(result.dataset, result.split)
    n = min(n, len(dataset))
    limit = 1.0 if result.threat == "linf" else float("inf")
    values = sorted({min(limit, f * result.eps) for f in SWEEP_FACTORS})
    settings = RunSettings(suite=[SWEEP_ATTACK], n=n, seed=result.seed)
    accuracies = []
    for eps in values:
        record = evaluate(model, dataset, ThreatModel(result.threat, eps), settings, model_name=result.model)
        accuracies.append(record.robust_acc)
    return EpsCurve(values, accuracies, f"{SWEEP_ATTACK} on n={n} points, engine-verified")


def add_eps_sweep(model: nn.Module, result: EvaluationResult) -> None:
    """Store an eps sweep with the result (for the report's plot) unless the diagnostics left one."""
    if curve_from_record(result) is None:
        result.extra["eps_sweep"] = asdict(sweep(model, result))


def add_certified_sweep(model: nn.Module, result: EvaluationResult, *, n: int = SWEEP_N) -> None:
    """Store the certified accuracy at the eps values of the record's sweep, on the sweep's points (the
    best of IBP and CROWN-IBP per point); nothing when the model cannot be bounded."""
    curve = curve_from_record(result)
    dataset = load_dataset(result.dataset, result.split)
    points = dataset.subset(min(n, len(dataset)), result.seed).materialize()
    device = next((str(p.device) for p in model.parameters()), "cpu")
    if curve is None or certifiable(model, points, device):
        return
    accuracies = []
    for eps in curve.eps:
        certificates = certify_points(
            model, points, ThreatModel(result.threat, eps), SUBMIT_METHODS, device=device
        )
        accuracies.append(max(c.certified_acc for c in certificates))
    method = " + ".join(c.upper() for c in SUBMIT_METHODS)
    result.extra["certified_sweep"] = {
        "eps": list(curve.eps),
        "certified_acc": accuracies,
        "method": SUBMIT_METHODS[-1],
        "n": len(points),
        "source": f"{method} certified, n={len(points)}",
    }


def report_curve(model: nn.Module | None, result: EvaluationResult) -> EpsCurve | None:
    """The curve a report plots: the record's own, else a fresh sweep when the model is at hand."""
    curve = curve_from_record(result)
    if curve is None and model is not None:
        curve = sweep(model, result)
    return curve
