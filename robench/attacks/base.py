"""The one interface every attack implements.

An attack's settings are fixed at construction (no mode setters, no state that leaks between calls);
a call maps ``(model, x, y, seeds)`` to adversarial x. ``seeds`` holds one int64 per point, derived from
the evaluation seed and the point's canonical index, so random starts do not depend on batch size or
on how points are sharded across processes.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable

import torch
from torch import nn

from robench.threat import ThreatModel


class Attack(ABC):
    #: registry name of the attack family ("pgd", "fgsm", ...); ``spec`` is the full name ("pgd-50x10")
    family: str = ""
    #: whether the attack needs input gradients (black-box attacks set False)
    uses_gradients: bool = True
    #: whether the attack draws its randomness per call rather than per point (pyautoattack does): the
    #: engine then calls it on fixed blocks of evaluation points, so results stay independent of the
    #: batch size and of sharding
    batch_random: bool = False
    #: Square queries the attack spends on every point it leaves robust (Square itself, AutoAttack
    #: standard's last attack; 0: none): a diagnostic Square probe behind it would only repeat it
    square_queries: int = 0

    def __init__(self, threat: ThreatModel, spec: str | None = None) -> None:
        self.threat = threat
        self.spec = spec or self.family

    @abstractmethod
    def perturb(
        self, model: nn.Module, x: torch.Tensor, y: torch.Tensor, seeds: torch.Tensor
    ) -> torch.Tensor:
        """Return x_adv (same shape as x). Must not modify x, y or the model."""

    def __call__(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor, seeds: torch.Tensor | None = None):
        if seeds is None:
            seeds = torch.arange(x.shape[0], dtype=torch.int64)
        return self.perturb(model, x, y, seeds)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.spec!r}, {self.threat})"


#: one round of an attack on the points still unbroken: (round, their positions) -> (found, x_adv) over them
Round = Callable[[int, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]


def attack_survivors(x: torch.Tensor, rounds: int, attempt: Round) -> torch.Tensor:
    """Restarts (or targets) on the survivors: round k attacks only the points no earlier round broke;
    each point keeps the output of the last round that attacked it (a broken point: the round that broke
    it). The restart loop of every attack that has one."""
    result = x.clone()
    done = torch.zeros(x.shape[0], dtype=torch.bool, device=x.device)
    for k in range(rounds):
        todo = (~done).nonzero().squeeze(1)
        if todo.numel() == 0:
            break
        found, adv = attempt(k, todo)
        result[todo], done[todo] = adv, found
    return result
