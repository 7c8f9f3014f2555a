"""Verification: an adversarial example counts only if it is valid and really misclassified.

Valid = same shape as x, finite, inside [0, 1] and inside the eps ball (tolerance 1e-6). Misclassified
is decided by a fresh forward pass in eval mode, never by what the attack says. An invalid output is an
error of the attack: it is *rejected* (the point keeps its previous status), never counted as a success.
A point whose logits on a valid adversarial input are NaN/inf is not correctly classified: it counts as
broken, and is reported (``nonfinite``).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from robench.threat import ThreatModel

TOLERANCE = 1e-6


@dataclass
class Verification:
    valid: torch.Tensor  # bool per point: the output is a legal point of the threat model
    broken: torch.Tensor  # bool per point: valid and misclassified (the only thing that counts)
    nonfinite: torch.Tensor  # bool per point: valid, but the model's logits there are NaN/inf
    reasons: list[str | None]  # why an output was rejected (None when valid)
    #: per point, z_y - max_{t != y} z_t at the output (NaN when rejected or non-finite): how close to the
    #: decision boundary the attack got on a point it did not break
    margin: torch.Tensor


def rejection_reasons(
    x_adv: torch.Tensor, x: torch.Tensor, threat: ThreatModel, tol: float
) -> list[str | None]:
    flat = x_adv.detach().flatten(1)
    finite = torch.isfinite(flat).all(1)
    in_box = (flat >= -tol).all(1) & (flat <= 1 + tol).all(1)
    distance = threat.distance(torch.nan_to_num(x_adv.detach(), nan=0.0, posinf=0.0, neginf=0.0), x)
    in_ball = distance <= threat.eps + tol
    reasons: list[str | None] = []
    for i in range(flat.shape[0]):
        if not finite[i]:
            reasons.append("non-finite values")
        elif not in_box[i]:
            reasons.append("outside [0, 1]")
        elif not in_ball[i]:
            reasons.append(f"{threat.norm} distance {distance[i].item():.6g} > eps {threat.eps:g}")
        else:
            reasons.append(None)
    return reasons


def verify(
    model: nn.Module, x: torch.Tensor, x_adv, y: torch.Tensor, threat: ThreatModel, tol: float = TOLERANCE
) -> Verification:
    n = x.shape[0]
    if not isinstance(x_adv, torch.Tensor) or tuple(x_adv.shape) != tuple(x.shape):
        shape = tuple(x_adv.shape) if isinstance(x_adv, torch.Tensor) else type(x_adv).__name__
        none = torch.zeros(n, dtype=torch.bool)
        reasons = [f"output shape {shape} != {tuple(x.shape)}"] * n
        return Verification(none, none.clone(), none.clone(), reasons, torch.full((n,), float("nan")))
    x_adv = x_adv.detach().to(device=x.device, dtype=x.dtype)
    reasons = rejection_reasons(x_adv, x, threat, tol)
    valid = torch.tensor([r is None for r in reasons], dtype=torch.bool)
    broken = torch.zeros(n, dtype=torch.bool)
    nonfinite = torch.zeros(n, dtype=torch.bool)
    margin = torch.full((n,), float("nan"))
    if valid.any():
        model.eval()  # a fresh pass in eval mode, whatever the attack did to the model
        with torch.no_grad():
            logits = model(x_adv[valid.to(x.device)]).detach().cpu()
        bad = ~torch.isfinite(logits).all(1)
        wrong = (logits.argmax(1) != y[valid.to(y.device)].cpu()) | bad
        broken[valid] = wrong
        nonfinite[valid] = bad
        margin[valid] = torch.where(bad, float("nan"), logit_margin(logits, y[valid.to(y.device)].cpu()))
    return Verification(valid, broken, nonfinite, reasons, margin)


def logit_margin(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """z_y - max_{t != y} z_t per row (negative: misclassified)."""
    true = logits.gather(1, y[:, None]).squeeze(1)
    return true - logits.scatter(1, y[:, None], float("-inf")).amax(1)
