"""Targeted APGD on the best few target classes: MALT's targeting (Melamed et al. 2024) with
pyautoattack's ``APGDAttack_targeted`` (targeted DLR loss) as the optimiser.

``apgd-t``, ``apgd-t-K``, ``apgd-t-KxT``: K APGD iterations (default 100) per target, T targets per point
(default 3). ``ranking="malt"`` (default) orders each point's candidate classes t (the ``candidates``
highest logits other than y) by the linearised distance to the t-boundary at x,
(z_y - z_t) / ||grad (z_y - z_t)||_* (dual norm: l1 for linf, l2 for l2): one forward and one backward per
candidate. ``ranking="logits"`` is AutoAttack's order (2nd, 3rd, ... highest clean logit; no passes).
Target j attacks only the points targets 1..j-1 left robust (stop at the first success); within a run a
point stops at its first misclassified iterate (``EarlyStop``); random starts are per point. Needs at
least 4 classes (the targeted DLR loss does).
"""

from __future__ import annotations

import torch
from torch import nn

from robench.attacks.apgd import STEPS, aa_start, run_apgd
from robench.attacks.base import Attack, attack_survivors
from robench.attacks.external import AA_NORMS
from robench.core.seeding import salt
from robench.errors import AttackError
from robench.threat import ThreatModel

RANKINGS = ("malt", "logits")


def ranked_targets(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, threat: ThreatModel, candidates: int, ranking: str
) -> torch.Tensor:
    """Per point, its candidate target classes, best first (n x min(candidates, K - 1))."""
    x = x.detach().clone().requires_grad_(ranking == "malt")
    with torch.enable_grad() if ranking == "malt" else torch.no_grad():
        logits = model(x)
        others = logits.detach().scatter(1, y[:, None], float("-inf"))
        count = min(candidates, logits.shape[1] - 1)
        top = others.topk(count, dim=1).indices
        if ranking == "logits" or not logits.requires_grad:
            return top
        true = logits.gather(1, y[:, None]).squeeze(1)
        scores = []
        for j in range(count):
            diff = true - logits.gather(1, top[:, j : j + 1]).squeeze(1)
            (grad,) = torch.autograd.grad(diff.sum(), x, retain_graph=j < count - 1)
            flat = grad.flatten(1)
            dual = flat.abs().sum(1) if threat.norm == "linf" else flat.norm(dim=1)
            scores.append(diff.detach() / dual.clamp_min(1e-12))
    order = torch.stack(scores, 1).argsort(dim=1)
    return top.gather(1, order)


class TargetedAPGD(Attack):
    family = "apgd-t"

    def __init__(
        self,
        threat: ThreatModel,
        spec: str | None = None,
        *,
        steps: int = STEPS,
        targets: int = 3,
        ranking: str = "malt",
        candidates: int = 9,
        rho: float = 0.75,
        eot_samples: int = 1,
    ) -> None:
        super().__init__(threat, spec)
        if min(steps, targets, candidates, eot_samples) < 1:
            raise AttackError(f"attack '{self.spec}' needs steps, targets, candidates and eot_samples >= 1")
        if ranking not in RANKINGS:
            raise AttackError(f"attack '{self.spec}': ranking must be one of {', '.join(RANKINGS)}")
        self.steps, self.targets, self.ranking = int(steps), int(targets), ranking
        self.candidates, self.rho, self.eot_samples = (
            max(int(candidates), int(targets)),
            float(rho),
            eot_samples,
        )

    def runner(self, device: torch.device, target: torch.Tensor):
        from pyautoattack.autopgd_base import APGDAttack_targeted

        runner = APGDAttack_targeted(
            None,
            n_iter=self.steps,
            norm=AA_NORMS[self.threat.norm],
            n_restarts=1,
            eps=self.threat.eps,
            seed=0,
            eot_iter=1,
            rho=self.rho,
            verbose=False,
            device=device,
        )
        runner.y_target = target
        return runner

    def perturb(
        self, model: nn.Module, x: torch.Tensor, y: torch.Tensor, seeds: torch.Tensor
    ) -> torch.Tensor:
        x, y = x.detach(), y.detach()
        if x.shape[0] == 0:
            return x.clone()
        targets = ranked_targets(model, x, y, self.threat, self.candidates, self.ranking)
        if targets.shape[1] < 3:
            raise AttackError(f"attack '{self.spec}' needs at least 4 classes (targeted DLR loss)")

        def attempt(j: int, todo: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            start = aa_start(self.threat, x[todo], seeds[todo.cpu()], salt(self.spec) + j)
            runner = self.runner(x.device, targets[todo, j])
            return run_apgd(runner, model, x[todo], y[todo], start, self.eot_samples)

        return attack_survivors(x, min(self.targets, targets.shape[1]), attempt)
