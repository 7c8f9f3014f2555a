"""``gradient_inconsistent``: the model's input gradients do not describe the function it computes.

On up to ``POINTS`` clean-correct points whose margin-loss gradient is usable (missing or zero gradients
are ``zero_gradients``' business), autograd's directional derivative of the margin loss along
``DIRECTIONS`` random unit-length sign directions d is compared with the central finite difference
(L(x + h d) - L(x - h d)) / 2h of the same loss. The relative discrepancy |a - f| / max(|a|, |f|) of a
point is its median over the directions (a ReLU kink crossed by one direction does not count), and the
flag fires when the median over the points exceeds ``TOLERANCE``. The comparison runs in float64 on a
copy of the model (h = 1e-4; float32 with h = 1e-2 and TF32 off where the copy fails), at points moved
``INSET`` inside the box so that clamping inside a model is no kink. On the digits and Fashion-MNIST zoos
the median is below 1e-9 in float64 (0.26 at most in float32) and a network whose backward comes from
another function (a decoy) is near 1 (docs/diagnostics.md).
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Iterator

import torch
from torch import nn

from robench.attacks.losses import cw_margin
from robench.core.counting import CountingModel
from robench.core.record import Flag
from robench.core.seeding import salt, sample_generator
from robench.diagnostics.check import Check
from robench.diagnostics.tools import gradients

CODE = "gradient_inconsistent"
POINTS = 16
DIRECTIONS = 8
TOLERANCE = 0.5
INSET = 0.01
STEPS = {torch.float64: 1e-4, torch.float32: 1e-2}


def run(ctx) -> list[Flag]:
    if ctx.randomized:
        return []  # finite differences of a random function measure its noise; randomized_model flags it
    usable = ctx.clean_correct & ~gradients(ctx, "ce").unusable & ~gradients(ctx, "margin").unusable
    positions = ctx.sample(usable, CODE, limit=POINTS)
    if positions.numel() == 0:
        return []
    dev = positions.to(ctx.x.device)
    per_point, dtype = discrepancies(ctx, ctx.x[dev], ctx.y[dev])
    if per_point is None:
        return []
    median = float(per_point.median())
    if median <= TOLERANCE:
        return []
    evidence = {
        "points": int(positions.numel()),
        "directions": DIRECTIONS,
        "median_discrepancy": round(median, 6),
        "max_discrepancy": round(float(per_point.max()), 6),
        "points_over_tolerance": int((per_point > TOLERANCE).sum()),
        "tolerance": TOLERANCE,
        "dtype": str(dtype).removeprefix("torch."),
        "step": STEPS[dtype],
    }
    message = (
        f"On {evidence['points']} points the input gradient's directional derivative of the margin loss "
        f"disagrees with a finite difference of the model's own outputs (median relative discrepancy "
        f"{median:.2f}, tolerance {TOLERANCE}): the backward pass does not describe the forward, so gradient "
        "attacks follow a decoy (gradient masking). robench attacked the survivors with finite-difference "
        "and gradient-free attacks."
    )
    return [CHECK.flag(message, evidence)]


def discrepancies(ctx, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor | None, torch.dtype]:
    """Per point: the median over directions of the relative discrepancy (see the module docstring)."""
    for dtype in (torch.float64, torch.float32):
        model = _copy(ctx.model.model, dtype)
        if model is None:
            continue
        try:
            with _no_tf32():
                return _measure(ctx, model, x.to(dtype), y), dtype
        except RuntimeError:  # the model does not run in this precision (dtype checks, fused kernels)
            continue
        finally:
            ctx.model.forward_samples += model.forward_samples
            ctx.model.backward_samples += model.backward_samples
    return None, torch.float32


def _copy(model: nn.Module, dtype: torch.dtype) -> CountingModel | None:
    """A counted copy of the model in ``dtype`` (float32: the model itself); None if it cannot be copied."""
    if dtype == torch.float32:
        return CountingModel(model)
    try:
        return CountingModel(copy.deepcopy(model).to(dtype))
    except (RuntimeError, TypeError, copy.Error):
        return None


def _measure(ctx, model: CountingModel, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    x = INSET + (1 - 2 * INSET) * x
    generator = sample_generator(ctx.seed, salt(CODE))
    signs = torch.randint(0, 2, (x.shape[0], DIRECTIONS, *x.shape[1:]), generator=generator)
    size = signs[0, 0].numel()  # unit-length sign directions: the step is h whatever the input size
    directions = ((signs * 2 - 1) / size**0.5).to(x.device, x.dtype)
    point = x.detach().clone().requires_grad_(True)
    with torch.enable_grad():
        (grad,) = torch.autograd.grad(cw_margin(model(point), y).sum(), point)
    autograd = (grad[:, None] * directions).flatten(2).sum(2)
    h, flat = STEPS[x.dtype], directions.flatten(0, 1)
    repeated = x[:, None].expand_as(directions).flatten(0, 1)
    labels = y.repeat_interleave(DIRECTIONS)
    with torch.no_grad():
        up = cw_margin(model(repeated + h * flat), labels)
        down = cw_margin(model(repeated - h * flat), labels)
    finite = ((up - down) / (2 * h)).view_as(autograd)
    scale = torch.maximum(autograd.abs(), finite.abs()).clamp_min(torch.finfo(x.dtype).tiny)
    return ((autograd - finite).abs() / scale).median(1).values.float().cpu()


@contextlib.contextmanager
def _no_tf32() -> Iterator[None]:
    """TF32 off for the body (float32 matmuls and convolutions at full precision on Ampere and later)."""
    matmul, cudnn = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    try:
        yield
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = matmul, cudnn


CHECK = Check(
    code=CODE,
    severity="error",
    meaning="The model's input gradients do not describe its own function: along random directions, "
    "autograd's directional derivative of the margin loss disagrees with a finite difference of the "
    "model's outputs (a decoy or broken backward, a custom autograd function that lies). Gradient attacks "
    "follow the wrong direction, so their failure proves nothing (gradient masking). robench attacked the "
    "survivors with finite-difference (or SPSA) APGD and a longer Square, and counted what those broke.",
    action="Treat the robust accuracy as an upper bound; fix the backward pass (no custom gradients that "
    "differ from the forward), or evaluate with gradient-free attacks.",
    run=run,
)
