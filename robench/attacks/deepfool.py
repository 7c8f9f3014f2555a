"""DeepFool (Moosavi-Dezfooli et al. 2016) through foolbox, restricted to the threat's eps ball.

``deepfool``, ``deepfool-K``: foolbox's ``LinfDeepFoolAttack`` (linf) or ``L2DeepFoolAttack`` (l2), K steps
(default 50), ``candidates`` (default 10: the classes with the highest clean logits), ``overshoot``
(default 0.02), logit-difference loss. DeepFool walks to the nearest linearised boundary without a
bound, so its example is then projected onto the eps ball (as foolbox does when called with
``epsilons``; as robench's l2 C&W): one already inside is returned as is, one outside is replaced by its
projection, which the caller's verification judges. Deterministic (no random start).

Per-point early stop: foolbox stops moving a point once it is adversarial but keeps computing its
gradients until the whole batch is; here the model is wrapped in ``EarlyStop``, so such a point costs no
pass any more (same decisions as foolbox's own run: the cross-check in the tests). One step costs
``candidates - 1`` forwards and backwards per point still moving.
"""

from __future__ import annotations

import warnings

import torch
from torch import nn

from robench.attacks.base import Attack
from robench.attacks.early_stop import AllBroken, EarlyStop
from robench.errors import AttackError
from robench.threat import ThreatModel

STEPS = 50


class DeepFool(Attack):
    family = "deepfool"

    def __init__(
        self,
        threat: ThreatModel,
        spec: str | None = None,
        *,
        steps: int = STEPS,
        candidates: int = 10,
        overshoot: float = 0.02,
    ) -> None:
        super().__init__(threat, spec)
        if steps < 1 or candidates < 2 or overshoot < 0:
            raise AttackError(f"attack '{self.spec}' needs steps >= 1, candidates >= 2 and overshoot >= 0")
        self.steps, self.candidates, self.overshoot = int(steps), int(candidates), float(overshoot)

    def foolbox_attack(self):
        import foolbox

        attacks = foolbox.attacks
        kind = attacks.LinfDeepFoolAttack if self.threat.norm == "linf" else attacks.L2DeepFoolAttack
        return kind(steps=self.steps, candidates=self.candidates, overshoot=self.overshoot, loss="logits")

    def perturb(
        self, model: nn.Module, x: torch.Tensor, y: torch.Tensor, seeds: torch.Tensor
    ) -> torch.Tensor:
        x, y = x.detach(), y.detach()
        if x.shape[0] == 0:
            return x.clone()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # foolbox's scipy deprecation and train-mode notices
            import foolbox

            stop = EarlyStop(model, y)
            fmodel = foolbox.PyTorchModel(stop, bounds=(0.0, 1.0), device=x.device)
            try:
                found = self.foolbox_attack().run(fmodel, x, foolbox.criteria.Misclassification(y)).detach()
            except AllBroken:
                found = x.clone()
        if stop.x_found is not None:
            found = torch.where(stop.found.view(-1, *([1] * (x.dim() - 1))), stop.x_found, found)
        return self.threat.project(found, x)
