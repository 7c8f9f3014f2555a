"""The recipe interface and the inner-maximisation steps recipes share.

Inner steps take gradients with respect to the input only (``torch.autograd.grad``), so they never
touch parameter gradients and skip the weight-gradient work of a full backward pass.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from robench.threat import ThreatModel


class RecipeRandom:
    """The training run's random source (a CPU generator whose state is part of the resume state)."""

    def __init__(self, generator: torch.Generator) -> None:
        self.generator = generator

    def uniform(self, like: torch.Tensor) -> torch.Tensor:
        """U[-1, 1] noise shaped like ``like``, on its device."""
        noise = torch.rand(like.shape, generator=self.generator) * 2 - 1
        return noise.to(like.device, like.dtype)

    def normal(self, like: torch.Tensor) -> torch.Tensor:
        return torch.randn(like.shape, generator=self.generator).to(like.device, like.dtype)


@dataclass
class BatchLoss:
    loss: torch.Tensor  # scalar to minimise
    logits: torch.Tensor  # logits on the training inputs the loss was made from (for train accuracy)


class Recipe:
    """Subclasses set ``name``/``paper``/defaults and implement :meth:`batch_loss`."""

    name = ""
    paper = ""
    default_steps = 1

    def __init__(
        self, threat: ThreatModel, *, steps: int | None = None, step_size: float | None = None, beta=6.0
    ) -> None:
        self.threat = threat
        self.steps = int(steps or self.default_steps)
        self.step_size = float(step_size) if step_size else self.default_step_size()
        self.beta = float(beta)

    def default_step_size(self) -> float:
        return self.threat.eps

    def describe(self) -> dict:
        return {"recipe": self.name, "steps": self.steps, "step_size": self.step_size}

    def set_progress(self, global_step: int, total_steps: int) -> None:
        """Called by the loop before every batch (schedules such as an eps ramp-up read it); a no-op here."""

    def batch_loss(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor, rng: RecipeRandom) -> BatchLoss:
        raise NotImplementedError

    def ascent_ce(self, model: nn.Module, x, y, start, *, steps: int, project: bool = True) -> BatchLoss:
        """CE at the point that ``steps`` cross-entropy ascent steps of ``step_size`` reach from ``start``
        (kept in the eps ball if ``project``, else only in [0, 1])."""
        x_adv = ascend(
            model,
            x,
            start,
            self.threat,
            steps=steps,
            step_size=self.step_size,
            loss_of_logits=cross_entropy_to(y),
            project=project,
        )
        return adversarial_ce(model, x_adv, y)


class MultiStepRecipe(Recipe):
    """A recipe whose inner maximisation takes k = 10 steps (default) of 2.5 * eps / k, so that the
    iterates can reach the ball's far side."""

    default_steps = 10

    def default_step_size(self) -> float:
        return 2.5 * self.threat.eps / self.steps


def input_gradient(model: nn.Module, x: torch.Tensor, loss_of_logits: Callable) -> torch.Tensor:
    """Gradient of ``loss_of_logits(model(x))`` with respect to x only."""
    x = x.detach().requires_grad_(True)
    loss = loss_of_logits(model(x))
    (grad,) = torch.autograd.grad(loss, x)
    return grad


def ascend(
    model: nn.Module,
    x: torch.Tensor,
    start: torch.Tensor,
    threat: ThreatModel,
    *,
    steps: int,
    step_size: float,
    loss_of_logits: Callable,
    project: bool = True,
) -> torch.Tensor:
    """``steps`` ascent steps from ``start``, projected to the eps ball (if ``project``) and [0, 1]."""
    x_adv = start.detach()
    for _ in range(steps):
        grad = input_gradient(model, x_adv, loss_of_logits)
        x_adv = x_adv + threat.step(grad, step_size)
        x_adv = threat.project(x_adv, x) if project else x_adv.clamp(0.0, 1.0)
    return x_adv.detach()


def cross_entropy_to(y: torch.Tensor) -> Callable:
    return lambda logits: F.cross_entropy(logits.float(), y)


def adversarial_ce(model: nn.Module, x_adv: torch.Tensor, y: torch.Tensor) -> BatchLoss:
    logits = model(x_adv)
    return BatchLoss(F.cross_entropy(logits.float(), y), logits.detach())
