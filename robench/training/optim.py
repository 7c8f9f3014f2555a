"""Optimisers and learning-rate schedules. The rate is a pure function of training progress, so the
schedule's whole state is the global step (saved in the resume state)."""

from __future__ import annotations

import torch
from torch import nn

from robench.training.config import TrainConfig


def build_optimizer(model: nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    params = [p for p in model.parameters() if p.requires_grad]
    if config.optimizer == "adam":
        return torch.optim.Adam(params, lr=config.lr, weight_decay=config.weight_decay)
    return torch.optim.SGD(params, lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay)


def learning_rate(config: TrainConfig, step: int, total_steps: int) -> float:
    """piecewise: lr, x0.1 from 50 %, x0.01 from 75 % (Madry/Rice); cyclic: one triangle 0 -> lr at
    40 % -> 0 (Wong et al.); constant: lr."""
    progress = step / max(1, total_steps)
    if config.schedule == "piecewise":
        return config.lr * (1.0 if progress < 0.5 else 0.1 if progress < 0.75 else 0.01)
    if config.schedule == "cyclic":
        peak = 0.4
        if progress < peak:
            return config.lr * progress / peak
        return config.lr * max(0.0, (1 - progress) / (1 - peak))
    return config.lr


def set_learning_rate(optimizer: torch.optim.Optimizer, lr: float) -> None:
    for group in optimizer.param_groups:
        group["lr"] = lr
