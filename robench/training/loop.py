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

from robench.distributed.training import TrainingRanks
from robench.errors import RobenchError
from robench.models import create_model, normalize
from robench.models.checkpoint import fit_state_dict, read_state_dict, save_checkpoint
from robench.progress import progress_bar
from robench.threat import ThreatModel
from robench.training.artifacts import RunPaths, write_logs, write_model_card
from robench.training.config import TrainConfig
from robench.training.data import (
    augment_batch,
    default_augment,
    epoch_order,
    monitor_points,
    train_val_split,
)  # fmt: skip
from robench.training.monitor import EpochMetrics, catastrophic_overfitting, validation_metrics
from robench.training.optim import build_optimizer, learning_rate, set_learning_rate
from robench.training.recipes import RecipeRandom, build_recipe
from robench.training.state import ResumeState, optimizer_from_parts, optimizer_to_parts


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
    summary: dict[str, Any]
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
    out_dir = Path(out_dir)
    paths = RunPaths(out_dir, name or config.recipe)
    state = ResumeState(out_dir, paths.name)
    threat = ThreatModel.parse(config.threat, config.eps)
    recipe = build_recipe(
        config.recipe, threat, steps=config.attack_steps, step_size=config.step_size, beta=config.beta
    )
    _check_outputs(paths, state, resume=resume, overwrite=overwrite)
    out_dir.mkdir(parents=True, exist_ok=True)

    ranks = TrainingRanks.join(config.device, sync_bn=sync_bn)  # no-op alone; DDP under torchrun
    device = torch.device(ranks.device)
    train_set, val_set = train_val_split(config.dataset, config.val_size, config.data_root, config.train_size)
    monitor = monitor_points(val_set, config.monitor_n)
    x_val, y_val = monitor.images.to(device), monitor.labels.to(device)
    augment = default_augment(train_set.images) if config.augment is None else config.augment

    torch.manual_seed(config.seed)
    net = create_model(
        config.arch, num_classes=train_set.num_classes, in_channels=train_set.images.shape[1],
        **config.arch_kwargs,
    )  # fmt: skip
    if config.init_checkpoint:
        fit_state_dict(
            net, read_state_dict(config.init_checkpoint), arch=config.arch,
            num_classes=train_set.num_classes, source=config.init_checkpoint,
        )  # fmt: skip
    model = normalize(net, train_set.mean, train_set.std).to(device)
    if config.use_channels_last:
        model = model.to(memory_format=torch.channels_last)
    optimizer = build_optimizer(model, config)
    generator = torch.Generator().manual_seed(config.seed)
    rng = RecipeRandom(generator)
    steps_per_epoch = ranks.steps_per_epoch(len(train_set), config.batch_size)
    total_steps = steps_per_epoch * config.epochs
    progress, order, last_good = _Progress(), None, _weights(model)
    if resume:
        progress, order, last_good = _restore(state, config, ranks, model, optimizer, generator)
    previous = _metrics_of(progress.rows[-1]) if progress.rows else None
    autocast = torch.autocast("cuda", dtype=torch.bfloat16) if config.use_amp else nullcontext()

    def save_resume_state() -> None:
        if not ranks.is_main:
            return
        tensors = {f"model.{k}": v for k, v in model.state_dict().items()}
        tensors |= {f"good.{k}": v for k, v in last_good.items()}
        optim_tensors, optim_rest = optimizer_to_parts(optimizer)
        tensors |= optim_tensors
        tensors["rng.generator"] = generator.get_state()
        tensors["rng.torch"] = torch.get_rng_state()
        if device.type == "cuda":  # dropout etc. on the GPU draw from its own generator
            tensors["rng.cuda"] = torch.cuda.get_rng_state(device)
        if order is not None:
            tensors["epoch_order"] = order
        info = {"config": config.to_dict(), "optimizer": optim_rest, "progress": vars(progress).copy()}
        info["world_size"] = ranks.world_size
        state.save(tensors, info)

    model.train()
    train_model = ranks.wrap(model)
    with progress_bar(f"train {paths.name}", total=total_steps) as bar:
        bar.advance(progress.global_step)
        while progress.epoch < config.epochs and not progress.stopped_early:
            epoch = progress.epoch + 1
            started = time.perf_counter()
            if progress.step == 0:
                order = epoch_order(len(train_set), generator)
            for step in range(progress.step, steps_per_epoch):
                batch = ranks.batch(order[step * config.batch_size : (step + 1) * config.batch_size])
                noise = ranks.noise(rng, progress.global_step)
                x = train_set.images[batch].to(device)
                y = train_set.labels[batch].to(device)
                if augment:
                    x = augment_batch(x, noise.generator)
                if config.use_channels_last:
                    x = x.contiguous(memory_format=torch.channels_last)
                set_learning_rate(optimizer, learning_rate(config, progress.global_step + 1, total_steps))
                with autocast:
                    out = recipe.batch_loss(train_model, x, y, noise)
                optimizer.zero_grad(set_to_none=True)
                out.loss.backward()
                optimizer.step()
                progress.step, progress.global_step = step + 1, progress.global_step + 1
                loss_sum, correct, seen = ranks.sum(
                    float(out.loss.detach()) * len(batch), int((out.logits.argmax(1) == y).sum()), len(batch)
                )
                progress.loss_sum += loss_sum
                progress.correct += int(correct)
                progress.seen += int(seen)
                bar.advance()
                for callback in callbacks:
                    callback(TrainEvent("step", epoch, progress.step, progress.global_step))
                if config.save_every and progress.global_step % config.save_every == 0:
                    progress.seconds += time.perf_counter() - started
                    started = time.perf_counter()
                    save_resume_state()

            metrics = ranks.decide(  # rank 0 measures; every rank then takes the same guard decision
                lambda: validation_metrics(model, x_val, y_val, threat, config.monitor_pgd_steps)
            )
            reason = catastrophic_overfitting(metrics, previous, drop=config.co_drop, gap=config.co_gap)
            progress.seconds += time.perf_counter() - started
            row = _epoch_row(epoch, optimizer, progress, metrics, reason is not None)
            if metrics.pgd_acc > progress.best_pgd:
                progress.best_pgd, progress.best_epoch, row["best"] = metrics.pgd_acc, epoch, True
                if ranks.is_main:
                    save_checkpoint(model, paths.best)
            progress.rows.append(row)
            bar.describe(
                f"{paths.name} {epoch}/{config.epochs} clean {metrics.clean_acc:.2f} "
                f"fgsm {metrics.fgsm_acc:.2f} pgd {metrics.pgd_acc:.2f}"
            )
            if reason is not None and progress.co is None:
                progress.co = {"epoch": epoch, "reason": reason}
            if reason is not None and config.early_stop:
                model.load_state_dict(last_good)
                progress.stopped_early = True
            elif reason is None:
                last_good = _weights(model)
            previous = metrics
            progress.epoch, progress.step = epoch, 0
            progress.loss_sum, progress.correct, progress.seen, progress.seconds = 0.0, 0, 0, 0.0
            order = None
            save_resume_state()
            for callback in callbacks:
                callback(TrainEvent("epoch", epoch, steps_per_epoch, progress.global_step, row))

    summary = ranks.decide(  # rank 0 writes checkpoint, card and logs
        lambda: _finish(paths, config, recipe, progress, model, train_set, val_set, monitor)
    )
    if ranks.is_main:
        state.clear()
    return TrainResult(paths, progress.rows, summary, model)


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


def _finish(paths, config, recipe, progress, model, train_set, val_set, monitor) -> dict[str, Any]:
    final_row = progress.rows[-1]
    if progress.stopped_early:  # the restored weights are those of the last epoch without the flag
        good = [r for r in progress.rows if not r["catastrophic_overfitting"]]
        final_row = good[-1] if good else None
    final_pgd = final_row["val_pgd_acc"] if final_row else None
    gap = progress.best_pgd - final_pgd if final_pgd is not None else None
    sha256 = save_checkpoint(model, paths.final)
    if not config.keep_best:
        paths.best.unlink(missing_ok=True)
    best_name = paths.best.name if config.keep_best else None
    summary = {
        "name": paths.name,
        "config": config.to_dict(),
        "recipe": recipe.describe(),
        "validation": {
            "split": "train.subset(val_size, seed=VALIDATION_SEED) of the train split",
            "train_size": len(train_set),
            "val_size": len(val_set),
            "monitored": len(monitor),
            "monitor_subset_sha256": monitor.subset_sha256(),
            "attacks": f"fgsm (step eps), pgd-{config.monitor_pgd_steps} (step 2.5 eps/k, random start)",
        },
        "flags": {
            "catastrophic_overfitting": progress.co is not None,
            "catastrophic_overfitting_epoch": (progress.co or {}).get("epoch"),
            "catastrophic_overfitting_reason": (progress.co or {}).get("reason"),
            "stopped_early": progress.stopped_early,
            "robust_overfitting": gap is not None and gap > config.ro_gap,
        },
        "best": {"epoch": progress.best_epoch, "val_pgd_acc": progress.best_pgd},
        "final": {"epoch": final_row["epoch"] if final_row else 0, "val_pgd_acc": final_pgd},
        "best_minus_final_pgd": gap,
        "checkpoints": {"final": paths.final.name, "best": best_name, "final_sha256": sha256},
    }
    write_logs(paths, progress.rows, summary)
    training = {
        "epochs": config.epochs, "epochs_run": len(progress.rows), "seed": config.seed,
        "batch_size": config.batch_size, "optimizer": config.optimizer, "lr": config.lr,
        "schedule": config.schedule, "weight_decay": config.weight_decay, **recipe.describe(),
        "log": paths.log_csv.name, "log_json": paths.log_json.name, "best_checkpoint": best_name,
        "catastrophic_overfitting": progress.co is not None,
        "robust_overfitting": summary["flags"]["robust_overfitting"],
    }  # fmt: skip
    training.pop("recipe")
    write_model_card(
        paths, config, num_classes=train_set.num_classes, mean=train_set.mean, std=train_set.std,
        sha256=sha256, paper=recipe.paper, training=training,
    )  # fmt: skip
    return summary
