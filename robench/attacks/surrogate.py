"""An attack run through a surrogate of the model: the surrogate's forward is the model's own (the loss
values and every early-stop decision are the true model's), only its backward differs (straight-through,
finite differences, SPSA). Outputs are verified on the true model by whoever calls the attack.

``Surrogated(threat, spec, inner=...)`` runs ``inner`` (an APGD or targeted APGD built for the same
threat and spec) on ``self.surrogate(model, seeds)``; subclasses define the surrogate. Passes are counted
at the model the surrogate wraps: a finite-difference backward costs forwards, not backwards.
"""

from __future__ import annotations

import torch
from torch import nn

from robench.attacks.apgd import APGD, STEPS
from robench.attacks.base import Attack
from robench.attacks.malt import TargetedAPGD
from robench.threat import ThreatModel


class Surrogated(Attack):
    """``inner`` on a surrogate of the model (see the module docstring)."""

    def __init__(self, threat: ThreatModel, spec: str | None = None, *, inner: Attack) -> None:
        super().__init__(threat, spec)
        self.inner = inner

    def surrogate(self, model: nn.Module, seeds: torch.Tensor) -> nn.Module:
        raise NotImplementedError

    def perturb(
        self, model: nn.Module, x: torch.Tensor, y: torch.Tensor, seeds: torch.Tensor
    ) -> torch.Tensor:
        return self.inner.perturb(self.surrogate(model, seeds), x, y, seeds)

    @classmethod
    def apgd(
        cls,
        threat: ThreatModel,
        spec: str | None = None,
        *,
        steps: int = STEPS,
        restarts: int = 1,
        loss: str = "ce",
        eot_samples: int = 1,
    ) -> Surrogated:
        """``<family>-K[xR]``: APGD (CE, or DLR with ``loss="dlr"``) on the surrogate."""
        spec = spec or cls.family
        inner = inner_apgd(threat, spec, steps=steps, restarts=restarts, loss=loss, eot_samples=eot_samples)
        return cls(threat, spec, inner=inner)

    @classmethod
    def apgd_t(
        cls,
        threat: ThreatModel,
        spec: str | None = None,
        *,
        steps: int = STEPS,
        targets: int = 3,
        eot_samples: int = 1,
    ) -> Surrogated:
        """``<family>-t-KxT``: targeted APGD on the surrogate."""
        spec = spec or f"{cls.family}-t"
        inner = inner_apgd_t(threat, spec, steps=steps, targets=targets, eot_samples=eot_samples)
        return cls(threat, spec, inner=inner)


def inner_apgd(
    threat: ThreatModel, spec: str, *, steps: int, restarts: int, loss: str, eot_samples: int
) -> APGD:
    """APGD as a surrogate attack runs it (its random starts salted by the surrogate attack's spec)."""
    return APGD(threat, spec, steps=steps, restarts=restarts, loss=loss, eot_samples=eot_samples)


def inner_apgd_t(
    threat: ThreatModel, spec: str, *, steps: int, targets: int, eot_samples: int
) -> TargetedAPGD:
    """Targeted APGD (DLR, MALT-ranked targets) as a surrogate attack runs it."""
    return TargetedAPGD(threat, spec, steps=steps, targets=targets, eot_samples=eot_samples)


class _Estimated(torch.autograd.Function):
    """The model's forward; a backward that asks the estimator for the vector-Jacobian product."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, estimator: GradientEstimate) -> torch.Tensor:
        ctx.estimator = estimator
        ctx.save_for_backward(x)
        with torch.no_grad():
            return estimator.model(x)

    @staticmethod
    def backward(ctx, grad_out: torch.Tensor):
        (x,) = ctx.saved_tensors
        with torch.no_grad():
            return ctx.estimator.vjp(x.detach(), grad_out.detach()), None


class GradientEstimate(nn.Module):
    """A surrogate whose forward is ``model``'s and whose input gradient is estimated from forwards only
    (``vjp(x, v)`` ≈ J(x)^T v, one row per point); subclasses define the estimate."""

    #: samples per forward when the estimate evaluates the model on many perturbed copies of a batch
    chunk = 4096

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _Estimated.apply(x, self)

    def vjp(self, x: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def scores(self, points: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        """``v_i · f(points[i, k])`` for points of shape (B, K, *input): shape (B, K), in chunks."""
        batch, copies = points.shape[:2]
        flat = points.reshape(batch * copies, *points.shape[2:])
        logits = torch.cat(
            [self.model(flat[i : i + self.chunk]) for i in range(0, flat.shape[0], self.chunk)]
        )
        return (logits.view(batch, copies, -1).to(v.dtype) * v[:, None, :]).sum(-1)

    def central(self, x: torch.Tensor, v: torch.Tensor, directions: torch.Tensor, h: float) -> torch.Tensor:
        """Central differences of ``v · f`` along ``directions`` (B, K, *input): shape (B, K)."""
        up = self.scores(x[:, None] + h * directions, v)
        down = self.scores(x[:, None] - h * directions, v)
        return (up - down) / (2 * h)
