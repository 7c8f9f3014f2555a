"""Per-epoch validation monitoring and the overfitting guards.

Every epoch the same fixed validation sample is evaluated in eval mode: clean accuracy, FGSM accuracy
(no random start, step eps) and PGD-k accuracy (one uniform random start from a fixed seed, step
2.5 eps / k). These are training signals, not evaluations: robench evaluate measures the final model.

Guards:
- catastrophic overfitting (Wong et al. 2020): validation PGD accuracy falls by more than ``co_drop``
  from the previous epoch, or FGSM minus PGD accuracy exceeds ``co_gap`` (single-step accuracy stays
  high while multi-step accuracy collapses);
- robust overfitting (Rice et al. 2020): best-so-far minus final validation PGD accuracy exceeds
  ``ro_gap`` (the best checkpoint is kept alongside the final one).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from robench.threat import ThreatModel
from robench.training.recipes.base import ascend, cross_entropy_to

MONITOR_SEED = 7
MONITOR_BATCH = 256


@dataclass
class EpochMetrics:
    clean_acc: float
    fgsm_acc: float
    pgd_acc: float

    @property
    def gap(self) -> float:
        return self.fgsm_acc - self.pgd_acc


def _accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> int:
    with torch.no_grad():
        return int((model(x).argmax(1) == y).sum())


def validation_metrics(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, threat: ThreatModel, pgd_steps: int
) -> EpochMetrics:
    was_training = model.training
    model.eval()
    generator = torch.Generator().manual_seed(MONITOR_SEED)
    correct = {"clean": 0, "fgsm": 0, "pgd": 0}
    for start in range(0, x.shape[0], MONITOR_BATCH):
        xb, yb = x[start : start + MONITOR_BATCH], y[start : start + MONITOR_BATCH]
        loss = cross_entropy_to(yb)
        correct["clean"] += _accuracy(model, xb, yb)
        x_fgsm = ascend(model, xb, xb, threat, steps=1, step_size=threat.eps, loss_of_logits=loss)
        correct["fgsm"] += _accuracy(model, x_fgsm, yb)
        noise = (torch.rand(xb.shape, generator=generator) * 2 - 1).to(xb.device, xb.dtype)
        x_pgd = ascend(
            model,
            xb,
            threat.random_start(xb, noise),
            threat,
            steps=pgd_steps,
            step_size=2.5 * threat.eps / pgd_steps,
            loss_of_logits=loss,
        )
        correct["pgd"] += _accuracy(model, x_pgd, yb)
    model.train(was_training)
    n = x.shape[0]
    return EpochMetrics(correct["clean"] / n, correct["fgsm"] / n, correct["pgd"] / n)


def catastrophic_overfitting(
    current: EpochMetrics, previous: EpochMetrics | None, *, drop: float, gap: float
) -> str | None:
    """A one-line reason when this epoch shows catastrophic overfitting, else None."""
    if previous is not None and previous.pgd_acc - current.pgd_acc > drop:
        return (
            f"validation PGD accuracy fell from {previous.pgd_acc:.3f} to {current.pgd_acc:.3f} "
            f"(more than {drop:g})"
        )
    if current.gap > gap:
        return (
            f"FGSM accuracy {current.fgsm_acc:.3f} exceeds PGD accuracy {current.pgd_acc:.3f} "
            f"by more than {gap:g}"
        )
    return None


#: a run "did not learn" when its best validation clean accuracy stays below chance plus this share of
#: the room above chance (10 classes: below 28 %): an honest robust model is far above it (the zoo's
#: PGD-trained CNN reaches 76 % clean at eps 0.3), a stalled one sits near chance
LEARNING_MARGIN = 0.2


def not_learning(rows: list[dict], num_classes: int, config) -> str | None:
    """A one-line reason (with the likely cause) when the run never learned, else None."""
    if not rows:
        return None
    chance = 1 / num_classes
    best = max(row["val_clean_acc"] for row in rows)
    first, last = rows[0]["train_loss"], rows[-1]["train_loss"]
    if best >= chance + LEARNING_MARGIN * (1 - chance) and last == last:  # last == last: not NaN
        return None
    cause = (
        f"{config.optimizer} at lr {config.lr:g} does not train this architecture on {config.dataset}: "
        "without BatchNorm a CIFAR-style SGD 0.1 stalls or diverges; try --optimizer adam --lr 1e-3"
        if config.optimizer == "sgd"
        else f"lr {config.lr:g} may be too high or too low for this architecture; also check --eps "
        "(adversarial training from the start at a large eps can keep a small network at chance)"
    )
    return (
        f"the model did not learn: best validation clean accuracy {best:.3f} (chance {chance:.3f}), "
        f"training loss {first:.3f} -> {last:.3f}; {cause}"
    )
