"""Evaluate end to end: randomness probe → cascade of verified attacks → diagnostics → the record.

``evaluate(model, **options)`` is the Python API (the same options, names and defaults as
``robench evaluate``, and the same record); ``run_request(request)`` is the pipeline's entry for a
request, the Python API's and the command line's: it loads the suite once, resolves the target, shards
the points over the ranks under torchrun, certifies, keeps the record and clears the resume state;
``evaluate_target`` evaluates a resolved target in one process (``submit`` and ``gate`` call it with the
key they looked up); ``diagnose`` runs the checks on a finished record. The tiers: docs/design.md.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import torch

from robench.core.environment import environment
from robench.core.identity import EvaluationKey
from robench.core.record import EvaluationResult
from robench.core.seeding import seeded_rng
from robench.core.threads import use_threads
from robench.diagnostics import DiagnosticContext, run_diagnostics
from robench.distributed import launched_distributed, rank_device
from robench.engine.evaluate import as_state
from robench.engine.evaluation import Evaluation, resolve_device
from robench.engine.settings import RunSettings
from robench.engine.state import EvaluationState
from robench.models.wrapper import kept_as_it_was
from robench.pipeline.adaptive import adapt
from robench.pipeline.certify import certify_record, require_certifiable
from robench.pipeline.escalate import escalate
from robench.pipeline.focus import run_focus
from robench.pipeline.keys import with_suite_loaded
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
    return run_request(request, state=as_state(state))


def run_request(
    request: EvaluationRequest,
    *,
    state: EvaluationState | None = None,
    keep: Callable[[EvaluationResult], None] | None = None,
    announce: Callable[[Target], None] | None = None,
) -> EvaluationResult | None:
    """The record of ``request``: its suite loaded once, its target resolved (``announce(target)`` then),
    evaluated (under torchrun every rank runs its shard and rank 0 gets the record, the others None),
    certified when asked; ``keep(record)`` (e.g. write it), then the resume ``state`` is cleared. A
    caller's nn.Module is put back as it was (``kept_as_it_was``)."""
    run = dataclasses.replace(request.run, device=rank_device(resolve_device(request.run.device)))
    request = request.replace(run=with_suite_loaded(run))
    with kept_as_it_was(request.model.module):
        target = resolve_target(request)
        if announce is not None:
            announce(target)
        result = _evaluate_request(target, request, state)
    if result is None:  # another rank: rank 0 keeps the record and clears every rank's state
        return None
    if keep is not None:
        keep(result)
    if state is not None:
        state.clear()
    return result


def _evaluate_request(
    target: Target, request: EvaluationRequest, state: EvaluationState | None
) -> EvaluationResult | None:
    """One process: ``evaluate_target``; under torchrun: the shards (robench.pipeline.distributed), rank 0
    then certifies the gathered record's points (a model certify cannot bound fails before the suite)."""
    run, certify = request.run, request.certify
    if not launched_distributed():
        return evaluate_target(target, run, diagnostics=request.diagnostics, state=state, certify=certify)
    from robench.pipeline.distributed import evaluate_distributed

    if certify:
        require_certifiable(target, run)
    result = evaluate_distributed(target, run, diagnostics=request.diagnostics, state=state)
    if result is not None and certify:
        certify_record(target, run, result, certify)
    return result


def prepare(target: Target, run: RunSettings, key: EvaluationKey | None = None) -> Evaluation:
    """The engine's checked evaluation of this target (subset, counted model, probe, attacks, key);
    ``key``: the one ``robench.pipeline.keys.evaluation_key`` created for this target and run."""
    loaded = target.loaded
    return Evaluation(
        loaded.module,
        target.points(run),
        target.threat,
        with_suite_loaded(run),
        model_name=loaded.name,
        checkpoint_sha256=loaded.sha256,
        key=key,
    )


def evaluate_target(
    target: Target,
    run: RunSettings,
    *,
    diagnostics: bool = True,
    state: Any = None,
    certify: tuple[str, ...] | None = None,
    key: EvaluationKey | None = None,
) -> EvaluationResult:
    """Probe, suite and (``diagnostics``) checks on a loaded target; resumable through ``state``;
    ``certify``: then these bounds on the same points (robench.pipeline.certify); ``key``: the
    evaluation's key if the caller created it already (to look up a stored result)."""
    if run.threads is not None:
        use_threads(run.threads)
    evaluation = prepare(target, run, key)
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
        model=evaluation.counted,
        data=evaluation.data,
        threat=evaluation.threat,
        result=result,
        device=evaluation.device,
        seed=evaluation.seed,
        batch_size=evaluation.batch_size,
        block_size=evaluation.block_size,
        randomness=evaluation.randomness,
        attacks=list(evaluation.attacks),
        unusable_gradients=torch.tensor([i in troubled for i in indices], dtype=torch.bool),
    )
    if not evaluation.randomized:
        run_diagnostics(ctx)
        return result
    with seeded_rng(evaluation.device, evaluation.seed, "diagnostics"):  # their attacks also seed per chunk
        run_diagnostics(ctx)
    return result
