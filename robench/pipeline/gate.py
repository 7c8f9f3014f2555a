"""Run a gate: load the model, reuse a stored result or evaluate, and check the criteria.

``run_gate(GateRequest(...))`` is the Python API behind ``robench gate`` and the pytest plugin (both
through ``check_model``, which takes their flat options). The dataset, threat and eps default to the
model card's (threat: linf when nothing gives one); a result stored under the same key
(``robench.core.identity.EvaluationKey``: checkpoint sha256, points, threat, eps, suite name, version
and content digest, seed, mode, block size) is reused unless ``reuse=False``; a fresh result is stored.
Diagnostics run by default (their verdict is printed; ``require_reliable`` needs them).
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from robench.core.record import EvaluationResult
from robench.engine.settings import RunSettings
from robench.errors import RobenchError
from robench.gate.criteria import GateReport, Thresholds, check_result
from robench.options import keyword, option
from robench.pipeline.request import EvaluationRequest, check_type, request_from_options

if TYPE_CHECKING:  # the command line builds the gate's options without importing torch
    from robench.pipeline.target import Target

GATE_SUITE = "fast"  # earns `reliable` on the honest zoo models at CI cost (docs/gate.md)


@dataclass(frozen=True)
class GateRequest:
    evaluation: EvaluationRequest = field(
        default_factory=lambda: EvaluationRequest(run=RunSettings(suite=GATE_SUITE))
    )
    thresholds: Thresholds = field(default_factory=Thresholds)
    baseline: str | Path | EvaluationResult | None = field(
        default=None, metadata=option("leaderboard entry (file or <dataset>/<threat>/<name>) or results JSON")
    )
    reuse: bool = field(default=True, metadata=option("reuse a stored result of the same evaluation"))
    store: Path | None = field(
        default=None, metadata=option("results store (default: $ROBENCH_STORE or ~/.local/share)")
    )


def run_gate(request: GateRequest) -> tuple[GateReport, float]:
    """The gate's report and the seconds spent (evaluation included); a caller's nn.Module is put back as
    it was (``kept_as_it_was``)."""
    from robench.models.wrapper import kept_as_it_was

    with kept_as_it_was(request.evaluation.model.module):
        return _run_gate(request)


def _run_gate(request: GateRequest) -> tuple[GateReport, float]:
    from robench.engine.evaluation import resolve_device
    from robench.gate.baseline import load_baseline
    from robench.pipeline.keys import with_suite_loaded
    from robench.pipeline.target import resolve_target

    started = time.perf_counter()
    thresholds, evaluation = request.thresholds, request.evaluation
    thresholds.check_given()
    if thresholds.require_reliable and not evaluation.diagnostics:
        raise RobenchError("--require-reliable needs the diagnostics; drop --no-diagnostics")
    if thresholds.max_drop is not None and request.baseline is None:
        raise RobenchError("--max-drop needs a --baseline (a leaderboard entry or a results JSON)")
    if request.baseline is not None and thresholds.max_drop is None:
        raise RobenchError("--baseline is only used with --max-drop; give the largest drop allowed")
    baseline = request.baseline
    base = load_baseline(baseline) if isinstance(baseline, (str, Path)) else baseline
    resolve_device(evaluation.run.device)
    run = with_suite_loaded(evaluation.run)  # the suite is loaded once, for the key and the engine
    target = resolve_target(evaluation.replace(run=run), default_threat="linf")
    result, reused = _result(target, request, run)
    report = GateReport(
        result=result,
        thresholds=thresholds,
        criteria=check_result(result, thresholds, base),
        reused=reused,
        baseline=_describe(baseline),
    )
    return report, time.perf_counter() - started


def check_model(model: Any = None, **options: Any) -> tuple[GateReport, float]:
    """``run_gate`` from flat options, as ``robench gate`` and the pytest plugin take them: the evaluation's
    (``robench.pipeline.request``), the thresholds' (``Thresholds`` fields), ``baseline``, ``reuse`` and
    ``store``. ``model`` is a card id or name, or an nn.Module (give ``dataset=`` then)."""
    names = {keyword(f): f.name for f in dataclasses.fields(Thresholds)}
    for key in [k for k in options if k in names]:
        check_type(key, options[key], Thresholds, names[key])
    for key in [k for k in ("baseline", "reuse", "store") if k in options]:
        check_type(key, options[key], GateRequest, key)
    thresholds = Thresholds(**{names[k]: options.pop(k) for k in list(options) if k in names})
    gate = {k: options.pop(k) for k in ("baseline", "reuse", "store") if k in options}
    options.setdefault("suite", GATE_SUITE)
    return run_gate(GateRequest(request_from_options(model, **options), thresholds, **gate))


def _describe(baseline: str | Path | EvaluationResult | None) -> str | None:
    if isinstance(baseline, EvaluationResult):
        return f"result of {baseline.model}"
    return None if baseline is None else str(baseline)


def _result(target: Target, request: GateRequest, run: RunSettings) -> tuple[EvaluationResult, bool]:
    from robench.diagnostics.catalog import refresh_findings
    from robench.pipeline.evaluate import evaluate_target
    from robench.pipeline.keys import evaluation_key
    from robench.store import ResultsStore

    need_verdict = request.thresholds.require_reliable
    key = evaluation_key(target, run)
    with ResultsStore(request.store) as results:
        if request.reuse and key.reusable:
            stored = results.lookup(key, require_verdict=need_verdict)
            if stored is not None:
                return refresh_findings(stored), True
        result = evaluate_target(
            target,
            run,
            diagnostics=request.evaluation.diagnostics,
            certify=request.evaluation.certify,
            key=key,
        )
        if key.reusable:
            results.put(result)
    return result, False
