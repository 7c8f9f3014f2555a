"""Run a gate: load the model, reuse a stored result or evaluate, and check the criteria.

``run_gate`` is the Python API behind ``robench gate`` and the pytest plugin (both through
``check_model``, which takes their flat options). The dataset, threat and eps
default to the model card's; a result stored for the same checkpoint sha256, dataset, split, threat, eps,
suite (name and version), subset and seed is reused unless ``reuse=False``; a fresh result is stored.
A randomised model's attacks run with EOT (``extra.eot_samples``) under the declared suite's name and
version, so its result is keyed, and reused, like any other.
Diagnostics run by default (their verdict is printed; ``require_reliable`` needs them).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from robench.core.record import EvaluationResult
from robench.errors import RobenchError
from robench.gate.baseline import load_baseline
from robench.gate.criteria import GateReport, Thresholds, check_result
from robench.models.spec import ModelSpec
from robench.models.target import Target, resolve_target


def run_gate(
    target: ModelSpec,
    thresholds: Thresholds,
    *,
    dataset: Any = None,
    threat: str | None = None,
    eps: str | float | None = None,
    n: int | None = None,
    seed: int = 0,
    suite: str = "quick",
    device: str = "cpu",
    batch_size: int | None = None,
    split: str = "test",
    data_root: str | None = None,
    baseline: str | Path | EvaluationResult | None = None,
    reuse: bool = True,
    store: str | Path | None = None,
    diagnostics: bool = True,
) -> tuple[GateReport, float]:
    """The gate's report and the seconds spent (evaluation included).

    ``dataset`` is a registered name or an ImageDataset (Python API).
    """
    started = time.perf_counter()
    if thresholds.require_reliable and not diagnostics:
        raise RobenchError("--require-reliable needs the diagnostics; drop --no-diagnostics")
    if thresholds.max_drop is not None and baseline is None:
        raise RobenchError("--max-drop needs a --baseline (a leaderboard entry or a results JSON)")
    if baseline is not None and thresholds.max_drop is None:
        raise RobenchError("--baseline is only used with --max-drop; give the largest drop allowed")
    base = load_baseline(baseline) if isinstance(baseline, (str, Path)) else baseline
    from robench.engine.evaluate import resolve_device

    resolved = resolve_target(
        target,
        dataset=dataset,
        threat=threat,
        eps=eps,
        split=split,
        data_root=data_root,
        device=resolve_device(device),
        default_threat="linf",
    )
    result, reused = _result(
        resolved, n, seed, suite, batch_size, reuse, store, thresholds.require_reliable, diagnostics
    )
    report = GateReport(
        result=result,
        thresholds=thresholds,
        criteria=check_result(result, thresholds, base),
        reused=reused,
        baseline=_describe(baseline),
    )
    return report, time.perf_counter() - started


def check_model(
    model: Any = None,
    *,
    checkpoint: str | Path | None = None,
    arch: str | None = None,
    arch_kwargs: dict[str, Any] | None = None,
    num_classes: int | None = None,
    mean: tuple[float, ...] | None = None,
    std: tuple[float, ...] | None = None,
    name: str | None = None,
    min_clean: float | None = None,
    min_robust: float | None = None,
    max_drop: float | None = None,
    require_reliable: bool = False,
    confidence: str = "point",
    confidence_level: float = 0.95,
    interval: str = "clopper-pearson",
    **options: Any,
) -> tuple[GateReport, float]:
    """``run_gate`` from flat options, as ``robench gate`` and the pytest plugin take them.

    ``model`` is a card id or name, or an nn.Module (give ``dataset=`` then); ``options`` are run_gate's.
    """
    thresholds = Thresholds(
        min_clean=min_clean,
        min_robust=min_robust,
        max_drop=max_drop,
        require_reliable=require_reliable,
        confidence=confidence,
        level=confidence_level,
        method=interval,
    )
    module = None if model is None or isinstance(model, str) else model
    target = ModelSpec(
        model=None if module is not None else model,
        checkpoint=checkpoint,
        arch=arch,
        arch_kwargs=arch_kwargs,
        num_classes=num_classes,
        module=module,
        mean=mean,
        std=std,
        name=name,
    )
    return run_gate(target, thresholds, **options)


def _describe(baseline: str | Path | EvaluationResult | None) -> str | None:
    if isinstance(baseline, EvaluationResult):
        return f"result of {baseline.model}"
    return None if baseline is None else str(baseline)


def _result(
    target: Target, n, seed, suite, batch_size, reuse, store_path, need_verdict, diagnostics
) -> tuple[EvaluationResult, bool]:
    from robench.engine.evaluate import resolve_suite
    from robench.store import ResultKey, ResultsStore

    threat, data = target.threat, target.data
    suite_info, _ = resolve_suite(suite, threat)
    key = ResultKey(
        checkpoint_sha256=target.loaded.sha256,
        dataset=data.name,
        threat=threat.norm,
        eps=float(threat.eps),
        suite_name=str(suite_info.get("name", "")),
        suite_version=str(suite_info.get("version", "")),
        subset_sha256=data.subset(n, seed).subset_sha256(),
        seed=int(seed),
        split=data.split,
    )
    with ResultsStore(store_path) as results:
        if reuse:
            stored = results.lookup(key, require_verdict=need_verdict)
            if stored is not None:
                return stored, True
        result = target.evaluate(
            suite=suite,
            n=n,
            seed=seed,
            batch_size=batch_size,
            diagnostics=diagnostics,
        )
        if key.reusable:
            if ResultKey.of(result) != key:  # a bug, not user error: the result could never be reused
                raise RuntimeError(f"gate key mismatch: {ResultKey.of(result)} != {key}")
            results.put(result)
    return result, False
