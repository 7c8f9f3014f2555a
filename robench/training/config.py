"""Trainer settings: one frozen dataclass, recorded verbatim in the training log, card and resume state."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

from robench.core.threads import threads_field
from robench.errors import RobenchError
from robench.options import json_object, option
from robench.threat import parse_eps

OPTIMIZERS = ("sgd", "adam")
SCHEDULES = ("piecewise", "cyclic", "constant")


#: defaults per dataset for settings left unset; "*" for the rest. The CIFAR-style recipe (SGD 0.1,
#: piecewise; Madry/Rice) does not train small networks on 8x8 digits or MNIST, many of which have no
#: BatchNorm: Adam 1e-3 does (a BatchNorm-free CNN with SGD 0.1 stayed at chance on digits)
TRAINING_DEFAULTS: dict[str, dict[str, Any]] = {
    "digits": {"epochs": 30, "batch_size": 64, "optimizer": "adam", "lr": 1e-3, "weight_decay": 0.0,
               "schedule": "constant"},
    "mnist": {"epochs": 20, "batch_size": 128, "optimizer": "adam", "lr": 1e-3, "weight_decay": 0.0,
              "schedule": "constant"},
    "fashion-mnist": {"epochs": 30, "batch_size": 128, "optimizer": "adam", "lr": 1e-3, "weight_decay": 0.0,
                      "schedule": "piecewise"},
    "*": {"epochs": 10, "batch_size": 128, "optimizer": "sgd", "lr": 0.1, "weight_decay": 5e-4,
          "schedule": "piecewise"},
}  # fmt: skip


def _f(default: Any, help: str, **kwargs: Any) -> Any:
    """A setting with its command-line option (``robench train``)."""
    return field(default=default, metadata=option(help, **kwargs))


@dataclass(frozen=True)
class TrainConfig:
    recipe: str = _f("pgd", "standard, pgd, trades, fgsm, fgsm-rs, n-fgsm or package.module:Class")
    arch: str = _f("small_cnn", "registered architecture or package.module:factory")
    dataset: str = _f("digits", "registered dataset (its train split is used)")
    threat: str = _f("linf", "linf or l2")
    eps: float = _f(0.3, "radius, e.g. 0.3 or 8/255", parse=parse_eps)
    epochs: int = _f(None, "training epochs (default: the dataset's, see TRAINING_DEFAULTS)")
    batch_size: int = _f(
        None, "training batch size, the global batch under torchrun (default: the dataset's)"
    )
    optimizer: str = _f(None, "sgd or adam (default: the dataset's)")
    lr: float = _f(None, "peak learning rate (default: the dataset's)")
    momentum: float = _f(0.9, "SGD momentum")
    weight_decay: float = _f(None, "weight decay (default: the dataset's)")
    schedule: str = _f(
        None, "piecewise (x0.1 at 50%, 75%), cyclic (one-cycle) or constant (default: the dataset's)"
    )
    attack_steps: int | None = _f(None, "inner-maximisation steps (pgd/trades default 10)")
    step_size: float | None = _f(None, "inner step size, e.g. 2/255 (recipe default)", parse=parse_eps)
    beta: float = _f(6.0, "TRADES beta")
    augment: bool | None = _f(None, "random crop + flip (default: on for >= 32 px images)")
    val_size: int | None = _f(None, "held-out validation samples (default 10% of train, max 1000)")
    monitor_n: int = _f(512, "validation points evaluated each epoch")
    monitor_pgd_steps: int = _f(10, "PGD steps of the per-epoch validation", cli=False)
    co_drop: float = _f(0.2, "CO guard: validation PGD accuracy drop between epochs (Wong et al.)")
    co_gap: float = _f(0.3, "CO guard: FGSM minus PGD validation accuracy")
    ro_gap: float = _f(0.05, "robust-overfitting flag: best minus final validation PGD accuracy")
    early_stop: bool = _f(False, "stop on catastrophic overfitting and restore the last good weights")
    seed: int = _f(0, "seed for initialisation, data order and noise")
    device: str = _f("cpu", "cpu or cuda[:N]")
    threads: int | None = threads_field()
    amp: bool | None = _f(None, "bf16 mixed precision (default: on on a GPU)")
    channels_last: bool | None = _f(None, "channels-last memory format (default: on on a GPU)", cli=False)
    save_every: int = _f(0, "also save the resume state every N steps (0: each epoch)")
    data_root: str | None = _f(None, "local data root (default $ROBENCH_DATA)")
    train_size: int | None = _f(None, "train on a deterministic subset of N points")
    init_checkpoint: str | None = _f(
        None, "start from this checkpoint (adversarial fine-tuning)", option="--init"
    )
    keep_best: bool = _f(True, "keep NAME.best.safetensors (best validation PGD epoch)")
    arch_kwargs: dict[str, Any] = field(
        default_factory=dict,
        metadata=option('architecture keyword arguments as JSON, e.g. {"width": 16}', parse=json_object),
    )

    def __post_init__(self) -> None:
        defaults = TRAINING_DEFAULTS.get(self.dataset, TRAINING_DEFAULTS["*"])
        for name, value in defaults.items():
            if getattr(self, name) is None:  # frozen: resolved once, recorded as resolved
                object.__setattr__(self, name, value)
        from robench.core.seeding import check_seed  # torch-free start-up: imported when built

        check_seed(self.seed)
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
        ignore = {"device", "threads", "data_root", "amp", "channels_last", "save_every", "keep_best"}
        mine, theirs = self.to_dict(), other.to_dict()
        return [k for k in mine if k not in ignore and mine[k] != theirs[k]]


def _cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()
