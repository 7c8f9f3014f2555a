"""``robench train``: train with a registered recipe; ``robench train-zoo``: retrain the digits zoo."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from robench.cli.options import ArchKwargsOption
from robench.errors import RobenchError

Opt = typer.Option


def train_command(
    out: Annotated[Path, Opt(help="output folder; models/<dataset>/<threat> puts the model in the zoo")],
    recipe: Annotated[
        str, Opt(help="standard, pgd, trades, fgsm, fgsm-rs, n-fgsm or package.module:Class")
    ] = "pgd",
    arch: Annotated[str, Opt(help="registered architecture or package.module:factory")] = "small_cnn",
    dataset: Annotated[str, Opt(help="registered dataset (its train split is used)")] = "digits",
    threat: Annotated[str, Opt(help="linf or l2")] = "linf",
    eps: Annotated[str, Opt(help="radius, e.g. 0.3 or 8/255")] = "0.3",
    epochs: Annotated[int, Opt(help="training epochs")] = 10,
    name: Annotated[str | None, Opt(help="model name (file stem); default: the recipe")] = None,
    batch_size: Annotated[int, Opt(help="training batch size")] = 128,
    optimizer: Annotated[str, Opt(help="sgd or adam")] = "sgd",
    lr: Annotated[float, Opt(help="peak learning rate")] = 0.1,
    momentum: Annotated[float, Opt(help="SGD momentum")] = 0.9,
    weight_decay: Annotated[float, Opt(help="weight decay")] = 5e-4,
    schedule: Annotated[
        str, Opt(help="piecewise (x0.1 at 50%, 75%), cyclic (one-cycle) or constant")
    ] = "piecewise",
    attack_steps: Annotated[int | None, Opt(help="inner-maximisation steps (pgd/trades default 10)")] = None,
    step_size: Annotated[str | None, Opt(help="inner step size, e.g. 2/255 (recipe default)")] = None,
    beta: Annotated[float, Opt(help="TRADES beta")] = 6.0,
    augment: Annotated[
        bool | None,
        Opt("--augment/--no-augment", help="random crop + flip (default: on for >= 32 px images)"),
    ] = None,
    val_size: Annotated[
        int | None, Opt(help="held-out validation samples (default 10% of train, max 1000)")
    ] = None,
    monitor_n: Annotated[int, Opt(help="validation points evaluated each epoch")] = 512,
    early_stop: Annotated[
        bool, Opt(help="stop on catastrophic overfitting and restore the last good weights")
    ] = False,
    co_drop: Annotated[float, Opt(help="CO guard: validation PGD accuracy drop between epochs")] = 0.2,
    co_gap: Annotated[float, Opt(help="CO guard: FGSM minus PGD validation accuracy")] = 0.3,
    ro_gap: Annotated[
        float, Opt(help="robust-overfitting flag: best minus final validation PGD accuracy")
    ] = 0.05,
    seed: Annotated[int, Opt(help="seed for initialisation, data order and noise")] = 0,
    device: Annotated[str, Opt(help="cpu or cuda[:N]")] = "cpu",
    amp: Annotated[
        bool | None, Opt("--amp/--no-amp", help="bf16 mixed precision (default: on on a GPU)")
    ] = None,
    save_every: Annotated[int, Opt(help="also save the resume state every N steps (0: each epoch)")] = 0,
    arch_kwargs: ArchKwargsOption = None,
    data_root: Annotated[Path | None, Opt(help="local data root (default $ROBENCH_DATA)")] = None,
    train_size: Annotated[int | None, Opt(help="train on a deterministic subset of N points")] = None,
    init: Annotated[Path | None, Opt(help="start from this checkpoint (adversarial fine-tuning)")] = None,
    keep_best: Annotated[bool, Opt(help="keep NAME.best.safetensors (best validation PGD epoch)")] = True,
    resume: Annotated[bool, Opt(help="continue the interrupted run of this name in --out")] = False,
    overwrite: Annotated[bool, Opt(help="replace an existing model or interrupted run of this name")] = False,
    sync_bn: Annotated[bool, Opt(help="under torchrun: SyncBatchNorm across ranks (CUDA only)")] = False,
) -> None:
    """Train a model (PGD-AT, TRADES, FGSM variants or standard) and write checkpoint, card and log."""
    from robench.cli.options import parse_arch_kwargs
    from robench.threat import parse_eps
    from robench.training import TrainConfig, train

    kwargs = parse_arch_kwargs(arch_kwargs) or {}
    config = TrainConfig(
        recipe=recipe, arch=arch, dataset=dataset, threat=threat.lower(), eps=parse_eps(eps), epochs=epochs,
        batch_size=batch_size, optimizer=optimizer, lr=lr, momentum=momentum, weight_decay=weight_decay,
        schedule=schedule, attack_steps=attack_steps,
        step_size=parse_eps(step_size) if step_size is not None else None, beta=beta, augment=augment,
        val_size=val_size, monitor_n=monitor_n, early_stop=early_stop, co_drop=co_drop, co_gap=co_gap,
        ro_gap=ro_gap, seed=seed, device=device, amp=amp, save_every=save_every,
        data_root=str(data_root) if data_root else None, arch_kwargs=kwargs, train_size=train_size,
        init_checkpoint=str(init) if init else None, keep_best=keep_best,
    )  # fmt: skip
    from robench.distributed import current

    main = current().is_main  # under torchrun only rank 0 prints; it also writes every file
    callbacks = [_print_epoch] if main else []
    result = train(
        config, out, name, resume=resume, overwrite=overwrite, callbacks=callbacks, sync_bn=sync_bn
    )
    if not main:
        return
    summary = result.summary
    flags = [k for k in ("catastrophic_overfitting", "robust_overfitting") if summary["flags"][k]]
    typer.echo(
        f"card: {result.paths.card}  checkpoint: {result.paths.final.name}  log: {result.paths.log_csv.name}"
    )
    typer.echo(
        f"best validation PGD accuracy {summary['best']['val_pgd_acc']:.3f} "
        f"(epoch {summary['best']['epoch']}, {summary['checkpoints']['best'] or 'not kept'}); "
        f"flags: {', '.join(flags) or 'none'}"
    )
    if summary["flags"]["stopped_early"]:
        typer.echo(
            f"stopped early: {summary['flags']['catastrophic_overfitting_reason']}; last good weights kept"
        )
    typer.echo(f"evaluate with: robench evaluate --model {result.paths.card}")


def _print_epoch(event) -> None:
    if event.kind != "epoch":
        return
    row = event.row
    co = "  CATASTROPHIC OVERFITTING" if row["catastrophic_overfitting"] else ""
    typer.echo(
        f"epoch {row['epoch']:3d}  loss {row['train_loss']:.3f}  train acc {row['train_acc']:.3f}  "
        f"val clean {row['val_clean_acc']:.3f}  fgsm {row['val_fgsm_acc']:.3f}  pgd {row['val_pgd_acc']:.3f}"
        f"  ({row['seconds']:.1f} s){co}",
        err=True,
    )


def train_zoo_command(
    out: Annotated[Path | None, Opt(help="output folder (default models/digits/linf)")] = None,
    only: Annotated[list[str] | None, Opt(help="retrain only this model (repeatable)")] = None,
) -> None:
    """Retrain the shipped digits zoo (standard, pgd, trades, fgsm, fgsm-rs) reproducibly and test it."""
    from robench.training.zoo import ZOO, train_zoo

    unknown = [n for n in only or [] if n not in ZOO]
    if unknown:
        raise RobenchError(f"'{unknown[0]}' is not a zoo model (choose from {', '.join(ZOO)})")
    train_zoo(out, only)


def register(app: typer.Typer) -> None:
    app.command("train")(train_command)
    app.command("train-zoo")(train_zoo_command)
