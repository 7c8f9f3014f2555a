"""Evaluate end to end: randomness probe → cascade of verified attacks → diagnostics → the record.

``evaluate(model, **options)`` is the Python API (the same options, names and defaults as
``robench evaluate``, and the same record); ``run_evaluation(request)`` takes the settings object;
``evaluate_target`` runs a resolved target; ``diagnose`` runs the checks on a finished record.
"""

from __future__ import annotations

from typing import Any

import torch

from robench.core.environment import environment
from robench.core.record import EvaluationResult
from robench.core.seeding import seeded_rng
from robench.core.threads import use_threads
from robench.diagnostics import DiagnosticContext, run_diagnostics
from robench.engine.evaluate import as_state
from robench.engine.evaluation import Evaluation
from robench.engine.settings import RunSettings
from robench.models.wrapper import kept_as_it_was
from robench.pipeline.adaptive import adapt
from robench.pipeline.certify import certify_record, require_certifiable
from robench.pipeline.escalate import escalate
from robench.pipeline.focus import run_focus
from robench.pipeline.request import EvaluationRequest, request_from_options
from robench.pipeline.target import Target, resolve_target


def evaluate(
    model: Any = None, dataset: Any = None, threat: Any = None, *, state: Any = None, **options: Any
):
    """Evaluate a model card (id or name) or an ``nn.Module``; ``options`` are ``robench evaluate``'s
    flags as keywords (``suite``, ``n``, ``seed``, ``eps``, ``mean``/``std``, ``diagnostics``, ...), with
    the same defaults, so the record is the one the CLI writes. ``dataset`` is a name or spec (default:
    the card's) or an ``ImageDataset``; ``threat`` is ``"linf"``/``"l2"`` (with ``eps``) or a
    ``ThreatModel``. ``state`` (a path or an EvaluationState) makes the run resumable; it is cleared once
    the record is complete. ``certify="ibp,crown"`` also certifies the points (robench.pipeline.certify).
    An nn.Module is evaluated in eval mode without parameter gradients and put back as it was."""
    request = request_from_options(model, dataset=dataset, threat=threat, **options)
    store = as_state(state)
    result = run_evaluation(request, state=store)
    if store is not None:
        store.clear()
    return result


def run_evaluation(request: EvaluationRequest, *, state: Any = None) -> EvaluationResult:
    """The record of ``request`` (the caller owns ``state``: clear it once the record is kept); a caller's
    nn.Module is put back as it was (``kept_as_it_was``)."""
    with kept_as_it_was(request.model.module):
        return evaluate_target(
            resolve_target(request), request.run, diagnostics=request.diagnostics, state=state,
            certify=request.certify,
        )  # fmt: skip


def prepare(target: Target, run: RunSettings) -> Evaluation:
    """The engine's checked evaluation of this target (subset, counted model, probe, attacks, key)."""
    loaded = target.loaded
    return Evaluation(
        loaded.module,
        target.points(run),
        target.threat,
        run,
        model_name=loaded.name,
        checkpoint_sha256=loaded.sha256,
    )


def evaluate_target(
    target: Target, run: RunSettings, *, diagnostics: bool = True, state: Any = None,
    certify: tuple[str, ...] | None = None,
) -> EvaluationResult:  # fmt: skip
    """Probe, suite and (``diagnostics``) checks on a loaded target; resumable through ``state``;
    ``certify``: then these bounds on the same points (robench.pipeline.certify)."""
    if run.threads is not None:
        use_threads(run.threads)
    evaluation = prepare(target, run)
    if certify:  # a model certify cannot bound fails before the suite, not after it
        require_certifiable(target, run)
    outcome = evaluation.run(as_state(state))
    result = outcome.to_record(environment(evaluation.device), **evaluation.details())
    result = finish(evaluation, target, result, diagnostics=diagnostics)
    return certify_record(target, run, result, certify) if certify else result


def finish(
    evaluation: Evaluation, target: Target, result: EvaluationResult, *, diagnostics: bool
) -> EvaluationResult:
    """What every entry point adds to the engine's record: the card, the suite's focus, then
    (``diagnostics``) the checks, escalation and, for a model found masking its gradients, the adaptive
    attacks."""
    result.card, result.model_info = target.card_summary, target.model_info
    run_focus(evaluation, result)
    if diagnostics:
        diagnose(evaluation, result)
        escalate(evaluation, result)
        adapt(evaluation, result)
    return result


def diagnose(evaluation: Evaluation, result: EvaluationResult) -> EvaluationResult:
    """robench.diagnostics on the whole evaluation's record (extra breaks, flags and verdict folded in)."""
    troubled = result.problems.gradients.indices()
    indices = evaluation.data.indices.tolist()
    ctx = DiagnosticContext(
        model=evaluation.counted, data=evaluation.data, threat=evaluation.threat, result=result,
        device=evaluation.device, seed=evaluation.seed, batch_size=evaluation.batch_size,
        block_size=evaluation.block_size, randomness=evaluation.randomness, attacks=list(evaluation.attacks),
        unusable_gradients=torch.tensor([i in troubled for i in indices], dtype=torch.bool),
    )  # fmt: skip
    if not evaluation.randomized:
        run_diagnostics(ctx)
        return result
    with seeded_rng(evaluation.device, evaluation.seed, "diagnostics"):  # their attacks also seed per chunk
        run_diagnostics(ctx)
    return result
