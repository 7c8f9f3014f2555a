"""TRADES (Zhang et al. 2019): CE(f(x), y) + beta * KL(f(x) || f(x')).

x' maximises the KL inside the eps ball: PGD on the KL from x + 0.001 * N(0, 1), with the clean
distribution computed once in eval mode (as in the reference implementation), then the outer loss in
the model's training mode. KL is summed over classes and averaged over the batch.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from robench.training.recipes.base import BatchLoss, MultiStepRecipe, ascend

START_SCALE = 0.001


def trades_kl(logits_clean: torch.Tensor, logits_adv: torch.Tensor) -> torch.Tensor:
    """Batch mean of KL(softmax(clean) || softmax(adv))."""
    log_p_clean = F.log_softmax(logits_clean.float(), dim=1)
    log_p_adv = F.log_softmax(logits_adv.float(), dim=1)
    return F.kl_div(log_p_adv, log_p_clean, reduction="batchmean", log_target=True)


def trades_loss(
    logits_clean: torch.Tensor, logits_adv: torch.Tensor, y: torch.Tensor, beta: float
) -> torch.Tensor:
    return F.cross_entropy(logits_clean.float(), y) + beta * trades_kl(logits_clean, logits_adv)


class TradesRecipe(MultiStepRecipe):
    name = "trades"
    paper = "Zhang et al. 2019"

    def describe(self) -> dict:
        return {**super().describe(), "beta": self.beta}

    def batch_loss(self, model, x, y, rng) -> BatchLoss:
        was_training = model.training
        model.eval()
        with torch.no_grad():
            clean_target = model(x).detach()
        start = self.threat.project(x + START_SCALE * rng.normal(x), x)
        x_adv = ascend(
            model,
            x,
            start,
            self.threat,
            steps=self.steps,
            step_size=self.step_size,
            loss_of_logits=lambda logits: trades_kl(clean_target, logits),
        )
        model.train(was_training)
        logits_clean = model(x)
        logits_adv = model(x_adv)
        return BatchLoss(trades_loss(logits_clean, logits_adv, y, self.beta), logits_clean.detach())
