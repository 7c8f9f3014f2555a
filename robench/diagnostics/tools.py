"""Small helpers the checks share: batched forwards, input-gradient status, and running any attack on
a subset with every output verified on the real model before it counts.

With EOT (``ctx.eot``: a randomised model) each attack call with its verification, each verification of
given inputs and each cached pass (clean logits, gradient status) runs in an RNG fork seeded from (seed,
number of the seeded call), as the engine's stages do, on chunks of ``ctx.block_size``: the breaks, and so
the final number, are reproducible for a seed and do not depend on the batch size.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
from torch import nn

from robench.attacks.losses import cross_entropy, cw_margin
from robench.core.record import Flag
from robench.core.seeding import seeded_rng
from robench.core.stats import binomial_sf
from robench.core.verify import verify
from robench.threat import ThreatModel

if TYPE_CHECKING:
    from robench.diagnostics.context import DiagnosticContext

# per-point losses whose input gradients the checks inspect (the margin is invariant to the logits' scale)
LOSSES: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    "ce": cross_entropy,
    "margin": cw_margin,
}


@torch.no_grad()
def predict(model: nn.Module, x: torch.Tensor, batch_size: int) -> torch.Tensor:
    """Logits (CPU) of a batched forward pass."""
    outputs = [model(x[i : i + batch_size]).detach().float().cpu() for i in range(0, x.shape[0], batch_size)]
    return torch.cat(outputs) if outputs else torch.empty(0)


def input_gradient(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, loss: str = "ce"
) -> torch.Tensor | None:
    """Gradient of the per-point loss w.r.t. the input; None when the forward broke the graph."""
    x = x.detach().clone().requires_grad_(True)
    with torch.enable_grad():
        out = model(x)
        if not isinstance(out, torch.Tensor) or not out.requires_grad:
            return None
        (grad,) = torch.autograd.grad(LOSSES[loss](out.float(), y).sum(), x, allow_unused=True)
    return grad


@dataclass
class GradientStatus:
    """Per point (bool, CPU): the input gradient of a loss is missing, non-finite or exactly zero."""

    missing: torch.Tensor
    nonfinite: torch.Tensor
    zero: torch.Tensor

    @property
    def unusable(self) -> torch.Tensor:
        return self.missing | self.nonfinite | self.zero


def gradient_status(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int, loss: str
) -> GradientStatus:
    n = x.shape[0]
    missing, nonfinite, zero = (torch.zeros(n, dtype=torch.bool) for _ in range(3))
    for i in range(0, n, batch_size):
        part = slice(i, i + batch_size)
        grad = input_gradient(model, x[part], y[part], loss)
        if grad is None:
            missing[part] = True
            continue
        flat = grad.detach().flatten(1).cpu()
        finite = torch.isfinite(flat).all(1)
        nonfinite[part] = ~finite
        zero[part] = finite & (flat == 0).all(1)
    return GradientStatus(missing, nonfinite, zero)


@contextlib.contextmanager
def seeded_call(ctx: DiagnosticContext) -> Iterator[None]:
    """With EOT, the body in an RNG fork seeded from (seed, "diagnostics", how many seeded calls came
    before); the calls come in a fixed order for a seed. Without EOT nothing changes."""
    if not ctx.eot:
        yield
        return
    with seeded_rng(ctx.device, ctx.seed, "diagnostics", ctx.next_seeded_call()):
        yield


def verified_breaks(
    ctx: DiagnosticContext, positions: torch.Tensor, x_adv: torch.Tensor, threat: ThreatModel | None = None
):
    """Bool per position (CPU): x_adv is legal in the threat model and misclassified by the real model."""
    with seeded_call(ctx):
        return _breaks(ctx, positions, x_adv, threat)


def _breaks(
    ctx: DiagnosticContext, positions: torch.Tensor, x_adv: torch.Tensor, threat: ThreatModel | None
) -> torch.Tensor:
    if positions.numel() == 0:
        return torch.zeros(0, dtype=torch.bool)
    dev = positions.to(ctx.x.device)
    return verify(ctx.model, ctx.x[dev], x_adv, ctx.y[dev], threat or ctx.threat).broken


def attack_breaks(
    ctx: DiagnosticContext,
    attack,
    positions: torch.Tensor,
    seeds: torch.Tensor,
    model: nn.Module | None = None,
) -> torch.Tensor:
    """Run an attack (on ``model``, e.g. a BPDA wrapper; default the real one) at these positions and
    verify its outputs on the real model, in the attack's threat model: verified breaks per position.

    An attack with per-call randomness (``batch_random``: Square, AutoAttack) is called once per chunk of
    ``ctx.block_size`` consecutive positions, others per batch of ``ctx.batch_size``: either way a point's
    result does not depend on the batch size. With EOT every attack runs per chunk of ``ctx.block_size``,
    each call verified inside its own seeded RNG fork (``seeded_call``)."""
    if positions.numel() == 0:
        return torch.zeros(0, dtype=torch.bool)
    dev = positions.to(ctx.x.device)
    x, y = ctx.x[dev], ctx.y[dev]
    chunk = ctx.block_size if attack.batch_random or ctx.eot else ctx.batch_size
    breaks = []
    for i in range(0, x.shape[0], chunk):
        part = slice(i, i + chunk)
        with seeded_call(ctx):  # the attack and its verification (a no-op without EOT)
            x_adv = attack(model or ctx.model, x[part], y[part], seeds[part]).detach()
            breaks.append(_breaks(ctx, positions[part], x_adv, attack.threat))
    return torch.cat(breaks)


def forward_batch(ctx: DiagnosticContext) -> int:
    """Batch size of the cached passes: with EOT the block size, so a random model's draws (seeded per
    call) do not depend on the batch size."""
    return ctx.block_size if ctx.eot else ctx.batch_size


def clean_logits(ctx: DiagnosticContext) -> torch.Tensor:
    """Logits of all n points on clean input (``DiagnosticContext.clean_logits``: computed once)."""
    return ctx.clean_logits()


def recorded_ce_gradients(ctx: DiagnosticContext) -> GradientStatus:
    """The cross-entropy gradient status the engine's clean pass recorded, for the clean-correct points."""
    problems = ctx.result.problems.gradients
    rows = [set(problems.no_graph), set(problems.nonfinite), set(problems.zero_grad)]
    masks = [torch.tensor([i in row for i in ctx.indices.tolist()], dtype=torch.bool) for row in rows]
    return GradientStatus(*(mask & ctx.clean_correct for mask in masks))


def gradients(ctx: DiagnosticContext, loss: str = "ce") -> GradientStatus:
    """Input-gradient status of the clean-correct points for ``loss`` (``DiagnosticContext.gradients``:
    computed once)."""
    return ctx.gradients(loss)


def loss_gradients(ctx: DiagnosticContext, loss: str) -> GradientStatus:
    """The gradient status for ``loss`` at the points whose cross-entropy gradient is unusable (others:
    all False), computed."""
    positions = (ctx.gradients("ce").unusable & ctx.clean_correct).nonzero().flatten()
    dev = positions.to(ctx.x.device)
    with seeded_call(ctx):
        part = gradient_status(ctx.model, ctx.x[dev], ctx.y[dev], forward_batch(ctx), loss)
    full = GradientStatus(*(torch.zeros(ctx.n, dtype=torch.bool) for _ in range(3)))
    for name in ("missing", "nonfinite", "zero"):
        getattr(full, name)[positions] = getattr(part, name)
    return full


MIN_DROP = 0.01  # estimated robust-accuracy drop (fraction of all points) that flags extra breaks ...
MIN_POINTS = 2  # ... with at least this many points broken


def estimated_drop(ctx: DiagnosticContext, broken: int, attacked: int, survivors: int) -> float:
    """The robust-accuracy drop (fraction of all n points) if a sample's break rate held for all survivors."""
    return broken / max(attacked, 1) * survivors / ctx.n


def overstated_p(ctx: DiagnosticContext, broken: int, attacked: int, survivors: int) -> float:
    """Exact one-sided binomial test that the suite overstates the robust accuracy by more than MIN_DROP:
    ``broken`` of ``attacked`` points (drawn from ``survivors``) fell to the extra attack, where a drop of
    MIN_DROP of all n points would break each with probability MIN_DROP * n / survivors."""
    return binomial_sf(broken, attacked, min(1.0, MIN_DROP * ctx.n / max(survivors, 1)))


def extra_breaks_flag(
    check, message: str, points: int, drop: float, evidence: dict, p_value: float
) -> list[Flag]:
    """The check's flag for extra verified breaks: at least MIN_POINTS of them and a drop of MIN_DROP or
    more; an error when ``p_value`` (``overstated_p``) says chance would rarely produce them, else a
    warning that there are too few points to decide."""
    if points < MIN_POINTS or drop < MIN_DROP:
        return []
    return [check.decide(message, {**evidence, "estimated_drop": drop}, p_value)]


SINGLE_STEP, MULTI_STEP = "fgsm", "pgd-20"
SHORT_PGD = re.compile(r"pgd-(\d+)")  # cross-entropy PGD, one random start (read below 20 steps)


def single_then_multi_stages(ctx: DiagnosticContext) -> tuple[str, ...]:
    """The suite's opening FGSM -> PGD-20 of a deterministic cascade, with any shorter PGD rungs between
    (``fast``: fgsm -> pgd-20; ``standard``: fgsm -> pgd-7 -> pgd-20): their per-point results are the
    single-step / multi-step comparison some checks need, already paid for. The accuracy after PGD-20
    also counts the earlier rungs' breaks, so it is never above PGD-20 alone's (a gap only grows).
    () when the suite does not open so."""
    attacks = tuple(ctx.suite_attacks)
    if ctx.result.mode != "cascade" or ctx.eot or attacks[:1] != (SINGLE_STEP,):
        return ()
    for end, spec in enumerate(attacks[1:], start=2):
        if spec == MULTI_STEP:
            return attacks[:end]
        short = SHORT_PGD.fullmatch(spec)
        if not short or int(short[1]) >= 20:
            return ()
    return ()
