"""``randomized_model``: repeated forward passes on the same input disagree (test-time dropout, random
transforms). The suite must then use EOT (AutoAttack ``rand``, PGD gradient averaging), and even so its
number is one draw of a random variable (reproducible for a seed: the engine seeds every call per block),
not a measurement of the model."""

from __future__ import annotations

from dataclasses import asdict

from robench.core.randomness import probe_randomness
from robench.core.record import Flag
from robench.diagnostics.check import Check

CODE = "randomized_model"


def run(ctx) -> list[Flag]:
    probe = ctx.randomness
    if probe is None:
        probe = probe_randomness(ctx.model, ctx.x[ctx.clean_correct.to(ctx.x.device)][: ctx.sample_size])
        ctx.randomness = probe
    if not probe.randomized:
        return []
    how = (
        "the suite switched to EOT (AutoAttack 'rand', PGD gradient averaging)"
        if ctx.eot
        else "the suite ran WITHOUT EOT, so its gradient attacks saw a single random draw"
    )
    message = (
        f"Repeated forward passes disagree ({probe.prediction_disagreement:.0%} of {probe.points} points "
        f"change class over {probe.repeats} passes; logits differ by up to "
        f"{probe.max_logit_difference:.3g}); {how}. "
        "The number is one draw of a random variable (another seed gives another): make the model "
        "deterministic at test time (model.eval(), no test-time dropout or random transforms)."
    )
    return [CHECK.flag(message, {**asdict(probe), "eot": ctx.eot})]


CHECK = Check(
    code=CODE,
    severity="error",
    meaning="Repeated forward passes on the same input disagree (test-time dropout, random transforms): "
    "the robust accuracy is one draw of a random variable (reproducible for a seed), not a measurement of "
    "the model. The suite attacked the expected model with EOT (AutoAttack 'rand', gradient averaging).",
    action="Make the model deterministic at test time (model.eval(), no test-time dropout or random input "
    "transforms), or report the number with its seed as one estimate.",
    run=run,
)
