"""``probe_randomness``: do repeated forward passes on the same inputs agree?

The engine may call it before the suite (so the suite can switch to EOT); the ``randomized_model``
check reuses its outcome or runs it itself. Float noise below the tolerance (e.g. non-deterministic GPU
kernels) does not count as randomness.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

REPEATS = 5  # AutoAttack's check uses 5 repeated forwards too
RELATIVE_TOLERANCE = 1e-4  # logit differences above 1e-4 x (1 + max |logit|) count as randomness
PROBE_POINTS = 64  # points of the probe (REPEATS forwards each)


@dataclass
class RandomnessProbe:
    """Outcome of repeated forward passes on the same inputs (see ``probe_randomness``)."""

    randomized: bool
    points: int
    repeats: int
    prediction_disagreement: float  # fraction of points whose predicted class changed between passes
    max_logit_difference: float


@torch.no_grad()
def probe_randomness(
    model: nn.Module,
    x: torch.Tensor,
    repeats: int = REPEATS,
    limit: int = PROBE_POINTS,
    check: Callable[[Any], None] | None = None,
) -> RandomnessProbe:
    """``check``, when given, sees each raw answer first (the engine checks that they are logits)."""
    x = x[:limit]
    answers = []
    for _ in range(repeats):
        out = model(x)
        if check is not None:
            check(out)
        answers.append(out.detach().float().cpu())
    outputs = torch.stack(answers)
    finite = torch.nan_to_num(outputs, nan=0.0, posinf=0.0, neginf=0.0)
    spread = (finite.amax(0) - finite.amin(0)).amax().item() if x.shape[0] else 0.0
    predictions = outputs.argmax(2)
    disagree = (predictions != predictions[0]).any(0).float().mean().item() if x.shape[0] else 0.0
    scale = 1.0 + finite.abs().amax().item() if x.shape[0] else 1.0
    return RandomnessProbe(
        randomized=bool(disagree > 0 or spread > RELATIVE_TOLERANCE * scale),
        points=int(x.shape[0]),
        repeats=repeats,
        prediction_disagreement=disagree,
        max_logit_difference=spread,
    )
