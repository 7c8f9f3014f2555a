"""The one training loop every recipe shares.

A recipe only makes each batch's loss; this loop owns data order, augmentation, the learning-rate
schedule, mixed precision, per-epoch validation, the overfitting guards, checkpoints, the model card,
the training log, and an exactly resumable state (model, optimiser, schedule position, RNG, epoch, step).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from robench.core.outputs import check_output_folder
from robench.core.threads import use_threads
from robench.errors import RobenchError
from robench.models import create_model, normalize
from robench.models.checkpoint import fit_state_dict, read_state_dict, save_checkpoint
from robench.models.layouts import concrete_layout
from robench.progress import progress_bar
from robench.threat import ThreatModel
from robench.training.artifacts import RunPaths, write_logs, write_model_card
from robench.training.config import TrainConfig
from robench.training.data import augment_batch, default_augment, epoch_order, monitor_points, train_val_split
from robench.training.monitor import EpochMetrics, catastrophic_overfitting, not_learning, validation_metrics
from robench.training.optim import build_optimizer, learning_rate, set_learning_rate
from robench.training.ranks import TrainingRanks
from robench.training.recipes import RecipeRandom, build_recipe
from robench.training.state import ResumeState, optimizer_from_parts, optimizer_to_parts
from robench.training.summary import TrainingFlags, TrainingSummary


@dataclass
class TrainEvent:
    kind: str  # "step" (after an optimiser step) or "epoch" (after validation)
    epoch: int  # 1-based
    step: int  # steps done in this epoch
    global_step: int
    row: dict[str, Any] | None = None


@dataclass
class TrainResult:
    paths: RunPaths
    rows: list[dict[str, Any]]
    summary: TrainingSummary
    model: nn.Module = field(repr=False)


@dataclass
class _Progress:
    epoch: int = 0  # completed epochs
    step: int = 0  # steps done in the current epoch
    global_step: int = 0
    loss_sum: float = 0.0
    correct: int = 0
    seen: int = 0
    seconds: float = 0.0
    rows: list[dict[str, Any]] = field(default_factory=list)
    best_pgd: float = -1.0
    best_epoch: int = 0
    co: dict[str, Any] | None = None  # first catastrophic-overfitting event
    stopped_early: bool = False


def _weights(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def train(
    config: TrainConfig,
    out_dir: str | Path,
    name: str | None = None,
    *,
    resume: bool = False,
    overwrite: bool = False,
    callbacks: Sequence[Callable[[TrainEvent], None]] = (),
    sync_bn: bool = False,
) -> TrainResult:
    """Train with ``config``; write checkpoints, card and logs as ``out_dir/<name>.*`` (name = recipe)."""
    if config.threads is not None:
        use_threads(config.threads)
    out_dir = check_output_folder(out_dir, "--out")  # before any data, model or epoch
    paths = RunPaths(out_dir, config.recipe if name is None else name)
    state = ResumeState(out_dir, paths.name)
    threat = ThreatModel.parse(config.threat, config.eps)
    recipe = build_recipe(
        config.recipe, threat, steps=config.attack_steps, step_size=config.step_size, beta=config.beta
    )
    _check_outputs(paths, state, resume=resume, overwrite=overwrite)
    run = _Run(config, paths, state, threat, recipe, TrainingRanks.join(config.device, sync_bn=sync_bn))
    out_dir.mkdir(parents=True, exist_ok=True)  # only once the data and the model are there
    if resume:
        run.restore()
    return run.train(callbacks)


class _Run:
    """One training run's live objects; ``train`` runs its epochs, each a sequence of named steps."""

    def __init__(self, config, paths, state, threat, recipe, ranks) -> None:
        self.config, self.paths, self.state, self.threat, self.recipe = config, paths, state, threat, recipe
        self.ranks = ranks  # a no-op alone; DDP under torchrun
        self.device = torch.device(ranks.device)
        self.train_set, self.val_set = train_val_split(
            config.dataset, config.val_size, config.data_root, config.train_size
        )
        self.monitor = monitor_points(self.val_set, config.monitor_n)
        self.x_val, self.y_val = self.monitor.images.to(self.device), self.monitor.labels.to(self.device)
        self.augment = default_augment(self.train_set.images) if config.augment is None else config.augment
        self.model = self._build_model()
        self.optimizer = build_optimizer(self.model, config)
        self.generator = torch.Generator().manual_seed(config.seed)
        self.rng = RecipeRandom(self.generator)
        self.steps_per_epoch = ranks.steps_per_epoch(len(self.train_set), config.batch_size)
        self.total_steps = self.steps_per_epoch * config.epochs
        self.progress, self.order, self.last_good = _Progress(), None, _weights(self.model)
        self.previous: EpochMetrics | None = None
        self.autocast = torch.autocast("cuda", dtype=torch.bfloat16) if config.use_amp else nullcontext()

    def _build_model(self) -> nn.Module:
        config, train_set = self.config, self.train_set
        torch.manual_seed(config.seed)
        net = create_model(
            concrete_layout(config.arch),
            num_classes=train_set.num_classes,
            in_channels=train_set.images.shape[1],
            options=config.arch_kwargs,
        )
        if config.init_checkpoint:
            fit_state_dict(
                net,
                read_state_dict(config.init_checkpoint),
                arch=config.arch,
                num_classes=train_set.num_classes,
                source=config.init_checkpoint,
            )
        model = normalize(net, train_set.mean, train_set.std).to(self.device)
        return model.to(memory_format=torch.channels_last) if config.use_channels_last else model

    def restore(self) -> None:
        self.progress, self.order, self.last_good = _restore(
            self.state, self.config, self.ranks, self.model, self.optimizer, self.generator
        )
        self.previous = _metrics_of(self.progress.rows[-1]) if self.progress.rows else None

    def save_resume_state(self) -> None:
        if not self.ranks.is_main:
            return
        model, optimizer, generator = self.model, self.optimizer, self.generator
        tensors = {f"model.{k}": v for k, v in model.state_dict().items()}
        tensors |= {f"good.{k}": v for k, v in self.last_good.items()}
        optim_tensors, optim_rest = optimizer_to_parts(optimizer)
        tensors |= optim_tensors
        tensors["rng.generator"] = generator.get_state()
        tensors["rng.torch"] = torch.get_rng_state()
        if self.device.type == "cuda":  # dropout etc. on the GPU draw from its own generator
            tensors["rng.cuda"] = torch.cuda.get_rng_state(self.device)
        if self.order is not None:
            tensors["epoch_order"] = self.order
        info = {
            "config": self.config.to_dict(),
            "optimizer": optim_rest,
            "progress": vars(self.progress).copy(),
        }
        info["world_size"] = self.ranks.world_size
        self.state.save(tensors, info)

    def train(self, callbacks: Sequence[Callable[[TrainEvent], None]]) -> TrainResult:
        config, progress = self.config, self.progress
        self.model.train()
        train_model = self.ranks.wrap(self.model)
        with progress_bar(f"train {self.paths.name}", total=self.total_steps) as bar:
            bar.advance(progress.global_step)
            while progress.epoch < config.epochs and not progress.stopped_early:
                started = time.perf_counter()
                if progress.step == 0:
                    self.order = epoch_order(len(self.train_set), self.generator)
                for step in range(progress.step, self.steps_per_epoch):
                    started = self._step(train_model, step, started, callbacks)
                    bar.advance()
                row = self._end_epoch(started)
                text = (
                    f"{self.paths.name} {row['epoch']}/{config.epochs} clean {row['val_clean_acc']:.2f} "
                    f"fgsm {row['val_fgsm_acc']:.2f} pgd {row['val_pgd_acc']:.2f}"
                )
                if callbacks:  # robench train's callback prints the epoch itself
                    bar.describe(text)
                else:  # a log gets the epoch as a line
                    bar.finished(text)
                for callback in callbacks:
                    callback(
                        TrainEvent("epoch", row["epoch"], self.steps_per_epoch, progress.global_step, row)
                    )
        summary = self.ranks.decide(  # rank 0 writes checkpoint, card and logs
            lambda: _finish(
                self.paths,
                config,
                self.recipe,
                progress,
                self.model,
                self.train_set,
                self.val_set,
                self.monitor,
            )
        )
        if self.ranks.is_main:
            self.state.clear()
        return TrainResult(self.paths, progress.rows, summary, self.model)

    def _step(self, train_model: nn.Module, step: int, started: float, callbacks) -> float:
        """One optimiser step on the step-th batch of the epoch's order; returns the epoch clock's start."""
        config, progress, ranks = self.config, self.progress, self.ranks
        batch = ranks.batch(self.order[step * config.batch_size : (step + 1) * config.batch_size])
        noise = ranks.noise(self.rng, progress.global_step)
        x = self.train_set.images[batch].to(self.device)
        y = self.train_set.labels[batch].to(self.device)
        if self.augment:
            x = augment_batch(x, noise.generator)
        if config.use_channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        set_learning_rate(self.optimizer, learning_rate(config, progress.global_step + 1, self.total_steps))
        self.recipe.set_progress(progress.global_step, self.total_steps)
        with self.autocast:
            out = self.recipe.batch_loss(train_model, x, y, noise)
        self.optimizer.zero_grad(set_to_none=True)
        out.loss.backward()
        self.optimizer.step()
        progress.step, progress.global_step = step + 1, progress.global_step + 1
        loss_sum, correct, seen = ranks.sum(
            float(out.loss.detach()) * len(batch), int((out.logits.argmax(1) == y).sum()), len(batch)
        )
        progress.loss_sum += loss_sum
        progress.correct += int(correct)
        progress.seen += int(seen)
        epoch = progress.epoch + 1
        for callback in callbacks:
            callback(TrainEvent("step", epoch, progress.step, progress.global_step))
        if config.save_every and progress.global_step % config.save_every == 0:
            progress.seconds += time.perf_counter() - started
            started = time.perf_counter()
            self.save_resume_state()
        return started

    def _end_epoch(self, started: float) -> dict[str, Any]:
        """Validate (rank 0; every rank takes its guard decision), keep the best, log, save the state."""
        config, progress, model = self.config, self.progress, self.model
        epoch = progress.epoch + 1
        metrics = self.ranks.decide(
            lambda: validation_metrics(model, self.x_val, self.y_val, self.threat, config.monitor_pgd_steps)
        )
        reason = catastrophic_overfitting(metrics, self.previous, drop=config.co_drop, gap=config.co_gap)
        progress.seconds += time.perf_counter() - started
        row = _epoch_row(epoch, self.optimizer, progress, metrics, reason is not None)
        if metrics.pgd_acc > progress.best_pgd:
            progress.best_pgd, progress.best_epoch, row["best"] = metrics.pgd_acc, epoch, True
            if self.ranks.is_main:
                save_checkpoint(model, self.paths.best)
        progress.rows.append(row)
        if reason is not None and progress.co is None:
            progress.co = {"epoch": epoch, "reason": reason}
        if reason is not None and config.early_stop:
            model.load_state_dict(self.last_good)
            progress.stopped_early = True
        elif reason is None:
            self.last_good = _weights(model)
        self.previous = metrics
        progress.epoch, progress.step = epoch, 0
        progress.loss_sum, progress.correct, progress.seen, progress.seconds = 0.0, 0, 0, 0.0
        self.order = None
        self.save_resume_state()
        return row


def _check_outputs(paths: RunPaths, state: ResumeState, *, resume: bool, overwrite: bool) -> None:
    if resume and not state.exists():
        raise RobenchError(f"there is no interrupted run '{paths.name}' to resume in {paths.out_dir}")
    if not resume and state.exists() and not overwrite:
        raise RobenchError(
            f"{paths.out_dir} holds an interrupted run '{paths.name}'; pass --resume to continue it "
            "or --overwrite to start again"
        )
    if not resume and paths.card.exists() and not overwrite:
        raise RobenchError(f"{paths.card} already exists; pass --overwrite to replace it")


def _restore(state, config, ranks, model, optimizer, generator):
    tensors, info = state.load()
    saved = TrainConfig.from_dict(info["config"])
    differ = saved.same_run_as(config)
    if differ:
        raise RobenchError(
            f"cannot resume: the interrupted run used different settings ({', '.join(differ)})"
        )
    ranks.check_resume(info.get("world_size", 1))
    model.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("model.")})
    optimizer_from_parts(optimizer, tensors, info["optimizer"])
    generator.set_state(tensors["rng.generator"])
    torch.set_rng_state(tensors["rng.torch"])
    device = next(model.parameters()).device
    if "rng.cuda" in tensors and device.type == "cuda":
        torch.cuda.set_rng_state(tensors["rng.cuda"], device)
    progress = _Progress(**info["progress"])
    last_good = {
        k[5:]: v.to(next(model.parameters()).device) for k, v in tensors.items() if k.startswith("good.")
    }
    return progress, tensors.get("epoch_order"), last_good


def _metrics_of(row: dict[str, Any]) -> EpochMetrics:
    return EpochMetrics(row["val_clean_acc"], row["val_fgsm_acc"], row["val_pgd_acc"])


def _epoch_row(epoch, optimizer, progress, metrics: EpochMetrics, co: bool) -> dict[str, Any]:
    return {
        "epoch": epoch,
        "lr": optimizer.param_groups[0]["lr"],
        "train_loss": progress.loss_sum / max(1, progress.seen),
        "train_acc": progress.correct / max(1, progress.seen),
        "val_clean_acc": metrics.clean_acc,
        "val_fgsm_acc": metrics.fgsm_acc,
        "val_pgd_acc": metrics.pgd_acc,
        "fgsm_pgd_gap": metrics.gap,
        "catastrophic_overfitting": co,
        "best": False,
        "seconds": progress.seconds,
    }


def _finish(paths, config, recipe, progress, model, train_set, val_set, monitor) -> TrainingSummary:
    """Rank 0, once the epochs are done: the final checkpoint, the summary, the logs and the model card."""
    sha256 = save_checkpoint(model, paths.final)
    if not config.keep_best:
        paths.best.unlink(missing_ok=True)
    checkpoints = {
        "final": paths.final.name,
        "best": paths.best.name if config.keep_best else None,
        "final_sha256": sha256,
    }
    summary = _summary(paths.name, config, recipe, progress, checkpoints, (train_set, val_set, monitor))
    write_logs(paths, progress.rows, summary.to_dict())
    described = {k: v for k, v in recipe.describe().items() if k != "recipe"}
    training = {
        "epochs": config.epochs,
        "epochs_run": len(progress.rows),
        "seed": config.seed,
        "batch_size": config.batch_size,
        "optimizer": config.optimizer,
        "lr": config.lr,
        "schedule": config.schedule,
        "weight_decay": config.weight_decay,
        **described,
        "log": paths.log_csv.name,
        "log_json": paths.log_json.name,
        "best_checkpoint": checkpoints["best"],
        **summary.card_flags(),
    }
    write_model_card(
        paths,
        config,
        num_classes=train_set.num_classes,
        mean=train_set.mean,
        std=train_set.std,
        sha256=sha256,
        paper=recipe.paper,
        training=training,
    )
    return summary


def _summary(name, config, recipe, progress, checkpoints, sets) -> TrainingSummary:
    """What the run found: the guards' flags and the best and final validation PGD accuracy (after an early
    stop, the final weights are those of the last epoch without the catastrophic-overfitting flag)."""
    train_set, val_set, monitor = sets
    final_row = progress.rows[-1]
    if progress.stopped_early:
        good = [r for r in progress.rows if not r["catastrophic_overfitting"]]
        final_row = good[-1] if good else None
    final_pgd = final_row["val_pgd_acc"] if final_row else None
    gap = progress.best_pgd - final_pgd if final_pgd is not None else None
    flags = TrainingFlags(
        catastrophic_overfitting=progress.co,
        stopped_early=progress.stopped_early,
        robust_overfitting=gap is not None and gap > config.ro_gap,
        not_learning=not_learning(progress.rows, train_set.num_classes, config),
    )
    validation = {
        "split": "train.subset(val_size, seed=VALIDATION_SEED) of the train split",
        "train_size": len(train_set),
        "val_size": len(val_set),
        "monitored": len(monitor),
        "monitor_subset_sha256": monitor.subset_sha256(),
        "attacks": f"fgsm (step eps), pgd-{config.monitor_pgd_steps} (step 2.5 eps/k, random start)",
    }
    return TrainingSummary(
        name=name,
        config=config.to_dict(),
        recipe=recipe.describe(),
        validation=validation,
        flags=flags,
        best_epoch=progress.best_epoch,
        best_pgd=progress.best_pgd,
        final_epoch=final_row["epoch"] if final_row else 0,
        final_pgd=final_pgd,
        checkpoints=checkpoints,
    )
