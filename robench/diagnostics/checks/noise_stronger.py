"""``noise_stronger``: uniform random noise in the eps ball breaks points every attack missed.

Forward passes only: ``DRAWS`` noise draws per survivor (all survivors up to ``MAX_POINTS``). Every
break is verified and folded into the worst case. The flag is an error when the breaks show, by an exact
binomial test (``tools.overstated_p``), that the suite overstates the robust accuracy by more than
``tools.MIN_DROP``; fewer breaks are a warning that there are too few points to decide.
"""

from __future__ import annotations

from robench.core.record import Flag
from robench.core.seeding import point_noise
from robench.diagnostics.check import Check
from robench.diagnostics.tools import overstated_p, verified_breaks

CODE = "noise_stronger"
DRAWS = 16
MAX_POINTS = 512


def run(ctx) -> list[Flag]:
    positions = ctx.sample(ctx.robust, CODE, limit=MAX_POINTS)
    survivors, attacked, total = int(ctx.robust.sum()), int(positions.numel()), 0
    shape = tuple(ctx.x.shape[1:])
    for draw in range(DRAWS):
        positions = positions[ctx.robust[positions]]
        if positions.numel() == 0:
            break
        dev = positions.to(ctx.x.device)
        noise = point_noise(ctx.point_seeds(positions, CODE), shape, salt=draw).to(ctx.x.device, ctx.x.dtype)
        x_noisy = ctx.threat.random_start(ctx.x[dev], noise)
        total += ctx.mark_broken(positions, verified_breaks(ctx, positions, x_noisy), "uniform-noise")
    if total == 0:
        return []
    message = (
        f"Uniform random noise in the eps ball ({DRAWS} draws per point) broke {total} of {attacked} "
        "points that every attack of the suite missed: the attacks are failing here (masked gradients "
        "or a randomised model). Those points now count as broken."
    )
    evidence = {"attacked": attacked, "broken": total, "draws": DRAWS}
    return [CHECK.decide(message, evidence, overstated_p(ctx, total, attacked, survivors))]


CHECK = Check(
    code=CODE,
    severity="error",
    meaning="Uniform random noise in the eps ball broke points that every attack of the suite missed: the "
    "attacks are failing there (masked gradients or a randomised model). Those points now count as broken.",
    action="Treat the robust accuracy as an overestimate; look for gradient masking and evaluate with an "
    "adaptive attack.",
    run=run,
)
