"""Adaptive attacks: when the diagnostics found the gradients masked, attack what they hid.

After the diagnostics and the suite's escalation, if an error flag of ``MASKING_FLAGS`` is still raised
(the verdict is ``unreliable``: a reliable model never gets here, so its numbers and costs do not change),
the points still robust are attacked by the attacks that answer the flags, each a stage of the record
(``escalated_by = "adaptive"``), verified on the true model and folded into the per-point worst case
like any stage (``robench.pipeline.escalate.run_extra_stage``), in this order:

1. **BPDA** (``bpda-apgd-100``, ``bpda-apgd-t-100x9``) when ``zero_gradients``, ``unbounded_attack_fails``
   or ``gradient_inconsistent`` fired and tracing the forward (``robench.attacks.tracing``) finds
   operations the straight-through surrogate replaces, with usable gradients through it;
2. **the scale-invariant targeted DLR loss** on the true gradients (``apgd-t-100x9``) when
   ``zero_gradients`` saw cross-entropy gradients vanish where the margin loss still has them;
3. **estimated gradients** (``fd-apgd-100``: exact coordinate-wise finite differences for inputs of at
   most ``FD_INPUT_LIMIT`` values; ``spsa-apgd-100`` beyond) when ``gradient_inconsistent`` fired (a
   backward that lies: BPDA may not reach it, e.g. inside a custom autograd function), or when
   ``unbounded_attack_fails`` fired and neither BPDA nor the margin loss applies (``black_box_stronger``
   or ``noise_stronger`` alone may only mean a short suite: Square answers them);
4. **Square with a larger budget** (``square-10000``, twice the diagnostics' escalated probe) for every
   masking flag.

Each stage runs only while points are still robust. The flags stay (the defence is broken; the model
stays ``unreliable``); each answered flag's evidence gets ``adaptive``: the attacks with what each broke,
the operations BPDA replaced and how they were found, and the robust accuracy before and after. Seeds:
the k-th adaptive attack is seed stage ``STAGE_BASE["adaptive"] + k``.
"""

from __future__ import annotations

import dataclasses
import math

from robench.attacks.tracing import Tracing, trace_masking
from robench.core.record import ADAPTIVE, EvaluationResult, Flag
from robench.core.seeding import STAGE_BASE
from robench.engine.evaluation import Evaluation
from robench.pipeline.escalate import run_extra_stage

ADAPTIVE_STAGE = STAGE_BASE["adaptive"]
MASKING_FLAGS = (
    "zero_gradients",
    "unbounded_attack_fails",
    "black_box_stronger",
    "noise_stronger",
    "gradient_inconsistent",
)
BPDA_FLAGS = ("zero_gradients", "unbounded_attack_fails", "gradient_inconsistent")
ESTIMATE_FLAGS = ("gradient_inconsistent", "unbounded_attack_fails")
BPDA_ATTACKS = ("bpda-apgd-100", "bpda-apgd-t-100x9")
MARGIN_ATTACKS = ("apgd-t-100x9",)
FD_ATTACKS = ("fd-apgd-100",)
SPSA_ATTACKS = ("spsa-apgd-100",)
SQUARE_ATTACKS = ("square-10000",)
FD_INPUT_LIMIT = 1024  # coordinate-wise differences cost 2 x this many forwards per point and step
TRACE_POINTS = 8


def masking_flags(result: EvaluationResult) -> list[Flag]:
    """The error flags that call for the adaptive stage."""
    return [flag for flag in result.flags if flag.code in MASKING_FLAGS and flag.severity == "error"]


def adapt(evaluation: Evaluation, result: EvaluationResult) -> EvaluationResult:
    """The adaptive stage (see the module docstring); the record is updated in place."""
    fired = masking_flags(result)
    if not fired or not any(sample.robust for sample in result.samples):
        return result
    before, first = result.robust_acc, len(result.stages)
    with evaluation.counted.measure() as tracing_cost:
        tracing = _tracing(evaluation, result, fired)
    broken: dict[str, int] = {}
    for k, spec in enumerate(plan(evaluation, fired, tracing)):
        if not any(sample.robust for sample in result.samples):
            break
        broken[spec] = run_extra_stage(evaluation, result, spec, ADAPTIVE, ADAPTIVE_STAGE + k)
    if len(result.stages) > first:  # tracing's passes are the first adaptive stage's
        stage = result.stages[first]
        stage.cost = (stage.cost + tracing_cost).rounded()
    evidence = {"attacks": broken, "robust_acc_before": before, "robust_acc_after": result.robust_acc}
    if tracing is not None:
        evidence["bpda"] = tracing.to_dict()
    result.flags = [_answered(flag, evidence) if flag in fired else flag for flag in result.flags]
    return result


def plan(evaluation: Evaluation, fired: list[Flag], tracing: Tracing | None) -> list[str]:
    """The adaptive attacks that answer these flags, in the order they run."""
    codes = {flag.code for flag in fired}
    bpda = tracing is not None and tracing.usable and bool(tracing.replaced)
    specs = list(BPDA_ATTACKS) if bpda else []
    zero = next((flag for flag in fired if flag.code == "zero_gradients"), None)
    margin = zero is not None and bool(zero.evidence.get("margin_loss_usable"))
    specs += MARGIN_ATTACKS if margin else ()
    if "gradient_inconsistent" in codes or not (bpda or margin) and codes & set(ESTIMATE_FLAGS):
        small = math.prod(evaluation.data.input_shape) <= FD_INPUT_LIMIT
        specs += FD_ATTACKS if small else SPSA_ATTACKS
    return specs + list(SQUARE_ATTACKS)


def _tracing(evaluation: Evaluation, result: EvaluationResult, fired: list[Flag]) -> Tracing | None:
    """What BPDA would replace, traced on a few survivors; None when no flag asks for BPDA."""
    if not any(flag.code in BPDA_FLAGS for flag in fired):
        return None
    survivors = [p for p, sample in enumerate(result.samples) if sample.robust][:TRACE_POINTS]
    x = evaluation.data.images[survivors].to(evaluation.device)
    y = evaluation.data.labels[survivors].to(evaluation.device)
    return trace_masking(evaluation.counted, x, y)


def _answered(flag: Flag, evidence: dict) -> Flag:
    """The flag as it was (its severity kept: the defence is broken), with what the adaptive stage did."""
    done = ", ".join(f"{spec} broke {count}" for spec, count in evidence["attacks"].items())
    message = (
        f"{flag.message} Adaptive attacks on the survivors ({done}) lowered the robust accuracy from "
        f"{evidence['robust_acc_before']:.1%} to {evidence['robust_acc_after']:.1%}; those breaks count."
    )
    return dataclasses.replace(flag, message=message, evidence={**flag.evidence, "adaptive": evidence})
