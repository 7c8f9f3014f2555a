"""A toy problem with known answers for engine tests, and scripted attacks with known outcomes.

Model: two classes, logit(class 1) - logit(class 0) = 4 * (x0 - 0.5), where x0 is the first pixel;
all labels are 0, so a point is misclassified exactly when x0 > 0.5. Clean x0 = 0.3 (correct) or
0.7 (wrong). Linf eps 0.25: moving x0 to 0.55 breaks a point; 0.8 is outside the ball.

``DropoutAtTest`` makes a randomised model of the tiny digits CNN (the EOT tests).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from robench.attacks.base import Attack
from robench.core.seeding import point_noise
from robench.data.base import ImageDataset
from robench.threat import ThreatModel

THREAT = ThreatModel("linf", 0.25)
WRONG = {103, 111}  # canonical indices the model gets wrong on clean inputs


class ToyModel(nn.Module):
    def __init__(self, num_classes: int = 2) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.tensor(4.0))
        self.num_classes = num_classes
        self.eval()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        margin = self.scale * (x.flatten(1)[:, 0] - 0.5)
        logits = torch.stack([-margin / 2, margin / 2], 1)
        if self.num_classes > 2:
            logits = torch.cat([logits, logits.new_full((x.shape[0], self.num_classes - 2), -10.0)], 1)
        return logits


def toy_dataset(n: int = 20) -> ImageDataset:
    indices = torch.arange(100, 100 + n, dtype=torch.int64)
    images = torch.full((n, 1, 2, 2), 0.3)
    for pos, index in enumerate(indices.tolist()):
        if index in WRONG:
            images[pos, 0, 0, 0] = 0.7
    images[:, 0, 0, 1] = 0.05
    images[:, 0, 1, 1] = torch.linspace(0.2, 0.8, n)  # an irrelevant pixel, so points differ
    return ImageDataset(
        name="toy",
        split="test",
        images=images,
        labels=torch.zeros(n, dtype=torch.int64),
        indices=indices,
        num_classes=2,
        mean=(0.0,),
        std=(1.0,),
    )


class Scripted(Attack):
    """Breaks exactly the points whose canonical index is in ``breaks`` (x0 -> 0.55); records its calls."""

    family = "scripted"

    def __init__(self, threat: ThreatModel, spec: str, breaks: set[int], data: ImageDataset) -> None:
        super().__init__(threat, spec)
        self.breaks, self.data = set(breaks), data
        self.seen: list[int] = []

    def _indices(self, x: torch.Tensor) -> list[int]:
        # recover canonical indices from the irrelevant pixel (unique per point)
        marks = self.data.images[:, 0, 1, 1]
        return [int(self.data.indices[(marks - v).abs().argmin()]) for v in x[:, 0, 1, 1].tolist()]

    def perturb(self, model, x, y, seeds):
        indices = self._indices(x)
        self.seen += indices
        x_adv = x.clone()
        for row, index in enumerate(indices):
            if index in self.breaks:
                x_adv[row, 0, 0, 0] = 0.55
        return x_adv


class Faulty(Scripted):
    """Returns an invalid output for the points in ``breaks``: outside the ball, outside [0,1], or NaN."""

    def __init__(self, threat, spec, breaks, data, how: str) -> None:
        super().__init__(threat, spec, breaks, data)
        self.how = how

    def perturb(self, model, x, y, seeds):
        indices = self._indices(x)
        x_adv = x.clone()
        for row, index in enumerate(indices):
            if index in self.breaks:
                if self.how == "ball":
                    x_adv[row, 0, 0, 0] = 0.8  # misclassified, but 0.5 away: out of the eps ball
                elif self.how == "box":
                    x_adv[row, 0, 0, 0] = 0.55
                    x_adv[row, 0, 0, 1] = -1e-3  # inside the ball (0.05 away) but below 0
                else:
                    x_adv[row, 0, 0, 0] = float("nan")
        return x_adv


class RandomNoise(Attack):
    """Seeded random search: ``tries`` random points of the ball per sample; keeps one that breaks it."""

    family = "noise"

    def __init__(self, threat: ThreatModel, spec: str = "noise", tries: int = 3) -> None:
        super().__init__(threat, spec)
        self.tries = tries
        self.batches: list[int] = []

    def perturb(self, model, x, y, seeds):
        self.batches.append(x.shape[0])
        best = x.clone()
        for t in range(self.tries):
            candidate = self.threat.random_start(x, point_noise(seeds, tuple(x.shape[1:]), salt=t).to(x))
            with torch.no_grad():
                wrong = model(candidate).argmax(1) != y
            best[wrong] = candidate[wrong]
        return best


class GradientSteps(Attack):
    """``steps`` signed-gradient steps on the whole batch: exactly ``steps`` forward+backward per point."""

    family = "steps"

    def __init__(self, threat: ThreatModel, spec: str = "steps", steps: int = 3) -> None:
        super().__init__(threat, spec)
        self.steps = steps

    def perturb(self, model, x, y, seeds):
        x_adv = x.clone()
        for _ in range(self.steps):
            x_adv.requires_grad_(True)
            loss = nn.functional.cross_entropy(model(x_adv), y)
            (grad,) = torch.autograd.grad(loss, x_adv)
            x_adv = self.threat.project(x_adv.detach() + self.threat.step(grad, 0.1), x)
        return x_adv.detach()


class DropoutAtTest(nn.Module):
    """The tiny digits CNN with dropout (p 0.5) kept on its penultimate features at test time."""

    def __init__(self, net: nn.Sequential) -> None:
        super().__init__()
        *body, self.head = net.children()
        self.body = nn.Sequential(*body)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(F.dropout(self.body(x), 0.5, training=True))
