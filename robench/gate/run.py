"""Run a gate: load the model, reuse a stored result or evaluate, and check the criteria.

``run_gate`` is the Python API behind ``robench gate`` and the pytest plugin. The dataset, threat and eps
default to the model card's; a result stored for the same checkpoint sha256, dataset, threat, eps, suite
(name and version), subset and seed is reused unless ``reuse=False``; a fresh result is stored.
Diagnostics run by default (their verdict is printed; ``require_reliable`` needs them).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from robench.engine.record import EvaluationResult
from robench.errors import RobenchError
from robench.gate.baseline import load_baseline
from robench.gate.criteria import GateReport, Thresholds, check_result


@dataclass
class GateTarget:
    """What to evaluate: a card id, a checkpoint + architecture, or an nn.Module + dataset name."""

    model: str | None = None
    checkpoint: str | Path | None = None
    arch: str | None = None
    num_classes: int | None = None
    module: Any = None  # a torch nn.Module (Python API / pytest plugin)
    mean: tuple[float, ...] | None = None
    std: tuple[float, ...] | None = None
    name: str | None = None


def run_gate(
    target: GateTarget,
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
    card = _card(target)
    if card is not None:
        dataset = card.dataset if dataset is None else dataset
        threat = threat or card.threat
        eps = card.eps if eps is None else eps
    missing = [o for o, v in (("--dataset", dataset), ("--eps", eps)) if v is None]
    if missing:
        raise RobenchError(f"give {', '.join(missing)} (there is no model card to take it from)")
    data = _dataset(dataset, split, data_root)
    loaded = _load(target, card, data, device)
    result, reused = _result(
        loaded,
        data,
        threat or "linf",
        eps,
        n,
        seed,
        suite,
        device,
        batch_size,
        reuse,
        store,
        thresholds.require_reliable,
        diagnostics,
    )
    report = GateReport(
        result=result,
        thresholds=thresholds,
        criteria=check_result(result, thresholds, base),
        reused=reused,
        baseline=_describe(baseline),
    )
    return report, time.perf_counter() - started


def _describe(baseline: str | Path | EvaluationResult | None) -> str | None:
    if isinstance(baseline, EvaluationResult):
        return f"result of {baseline.model}"
    return None if baseline is None else str(baseline)


def _card(target: GateTarget):
    if target.module is not None:
        return None
    if (target.model is None) == (target.checkpoint is None and target.arch is None):
        raise RobenchError("give either --model CARD or --checkpoint PATH --arch ARCH")
    if target.model is None:
        return None
    from robench.models.cards import find_card

    return find_card(target.model)


def _dataset(dataset: Any, split: str, data_root: str | None):
    from robench.data import ImageDataset, load_dataset

    if isinstance(dataset, ImageDataset):
        return dataset
    return load_dataset(str(dataset), split=split, root=data_root)


def _load(target: GateTarget, card, data, device: str):
    from robench.models.loading import load_model, load_model_from_module

    if target.module is not None:
        return load_model_from_module(
            target.module, mean=target.mean, std=target.std, name=target.name, device=device
        )
    if card is not None:
        return load_model(card, checkpoint=target.checkpoint, device=device)
    return load_model(
        checkpoint=target.checkpoint,
        arch=target.arch,
        num_classes=target.num_classes or data.num_classes,
        in_channels=data.input_shape[0],
        mean=target.mean,
        std=target.std,
        device=device,
    )


def _result(
    loaded,
    data,
    threat_name,
    eps,
    n,
    seed,
    suite,
    device,
    batch_size,
    reuse,
    store_path,
    need_verdict,
    diagnostics,
) -> tuple[EvaluationResult, bool]:
    from robench.engine.evaluate import evaluate, resolve_device, resolve_suite
    from robench.store import ResultKey, ResultsStore
    from robench.threat import ThreatModel

    threat = ThreatModel.parse(threat_name, eps)
    device = resolve_device(device)
    suite_info, _ = resolve_suite(suite, threat)
    key = ResultKey(
        checkpoint_sha256=loaded.sha256,
        dataset=data.name,
        threat=threat.norm,
        eps=float(threat.eps),
        suite_name=str(suite_info.get("name", "")),
        suite_version=str(suite_info.get("version", "")),
        subset_sha256=data.subset(n, seed).subset_sha256(),
        seed=int(seed),
    )
    with ResultsStore(store_path) as results:
        if reuse:
            stored = results.lookup(key, require_verdict=need_verdict)
            if stored is not None:
                return stored, True
        result = evaluate(
            loaded.module,
            data,
            threat,
            suite=suite,
            n=n,
            seed=seed,
            device=device,
            batch_size=batch_size,
            model_name=loaded.name,
            checkpoint_sha256=loaded.sha256,
            diagnostics=diagnostics,
        )
        if key.reusable:
            results.put(result)
    return result, False
