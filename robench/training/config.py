"""Trainer settings: one frozen dataclass, recorded verbatim in the training log, card and resume state."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

from robench.errors import RobenchError

OPTIMIZERS = ("sgd", "adam")
SCHEDULES = ("piecewise", "cyclic", "constant")


@dataclass(frozen=True)
class TrainConfig:
    recipe: str = "pgd"
    arch: str = "small_cnn"
    dataset: str = "digits"
    threat: str = "linf"
    eps: float = 0.3
    epochs: int = 10
    batch_size: int = 128
    optimizer: str = "sgd"
    lr: float = 0.1
    momentum: float = 0.9
    weight_decay: float = 5e-4
    schedule: str = "piecewise"  # piecewise (x0.1 at 50 % and 75 %), cyclic (one-cycle triangle), constant
    attack_steps: int | None = None  # inner-maximisation steps (recipe default when None)
    step_size: float | None = None  # inner step size (recipe default when None)
    beta: float = 6.0  # TRADES trade-off
    augment: bool | None = None  # random crop + flip; None = on for CIFAR-style (>= 32 px) images
    val_size: int | None = None  # held-out validation samples; None = 10 % of train, at most 1,000
    monitor_n: int = 512  # validation points evaluated every epoch (fixed)
    monitor_pgd_steps: int = 10
    co_drop: float = 0.2  # CO guard: PGD accuracy drop from the previous epoch (Wong et al.)
    co_gap: float = 0.3  # CO guard: FGSM minus PGD accuracy
    ro_gap: float = 0.05  # robust-overfitting flag: best minus final validation PGD accuracy
    early_stop: bool = False  # on catastrophic overfitting: stop and restore the last good weights
    seed: int = 0
    device: str = "cpu"
    amp: bool | None = None  # bf16 autocast; None = on when on a GPU (never on CPU)
    channels_last: bool | None = None  # None = on when on a GPU
    save_every: int = 0  # also persist the resume state every N steps (0 = at epoch ends only)
    data_root: str | None = None
    train_size: int | None = None  # train on a deterministic subset of this many points (quick runs)
    init_checkpoint: str | None = None  # start from these weights (adversarial fine-tuning)
    keep_best: bool = True  # keep <name>.best.safetensors after the run (the log records it either way)
    arch_kwargs: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        checks = [
            (self.epochs >= 1, f"--epochs must be at least 1, got {self.epochs}"),
            (self.batch_size >= 1, f"--batch-size must be at least 1, got {self.batch_size}"),
            (self.lr > 0, f"--lr must be positive, got {self.lr}"),
            (self.weight_decay >= 0, f"--weight-decay must be non-negative, got {self.weight_decay}"),
            (self.optimizer in OPTIMIZERS, f"unknown optimiser '{self.optimizer}' (choose sgd or adam)"),
            (
                self.schedule in SCHEDULES,
                f"unknown schedule '{self.schedule}' (choose {', '.join(SCHEDULES)})",
            ),
            (self.attack_steps is None or self.attack_steps >= 1, "--attack-steps must be at least 1"),
            (self.step_size is None or self.step_size > 0, "--step-size must be positive"),
            (self.monitor_n >= 1, "--monitor-n must be at least 1"),
            (self.val_size is None or self.val_size >= 1, "--val-size must be at least 1"),
            (self.save_every >= 0, "--save-every must be non-negative"),
            (self.train_size is None or self.train_size >= 1, "--train-size must be at least 1"),
        ]
        for ok, message in checks:
            if not ok:
                raise RobenchError(message)
        if self.device.startswith("cuda") and not _cuda_available():
            raise RobenchError(f"device '{self.device}' was asked for but no CUDA GPU is available")

    @property
    def on_gpu(self) -> bool:
        return self.device.startswith("cuda")

    @property
    def use_amp(self) -> bool:
        return self.on_gpu if self.amp is None else (self.amp and self.on_gpu)

    @property
    def use_channels_last(self) -> bool:
        return self.on_gpu if self.channels_last is None else (self.channels_last and self.on_gpu)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def same_run_as(self, other: TrainConfig) -> list[str]:
        """Names of settings that differ in a way a resumed run cannot absorb (device may change)."""
        ignore = {"device", "data_root", "amp", "channels_last", "save_every", "keep_best"}
        mine, theirs = self.to_dict(), other.to_dict()
        return [k for k in mine if k not in ignore and mine[k] != theirs[k]]


def _cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()
