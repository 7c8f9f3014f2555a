"""``robench train``: train with a registered recipe; ``robench train-zoo``: retrain the digits zoo."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from robench.cli.options import param, settings_command
from robench.errors import RobenchError
from robench.training.config import TrainConfig

Opt = typer.Option


def train_command(
    config: TrainConfig, *, out: Path, name: str | None, resume: bool, overwrite: bool, sync_bn: bool
) -> None:
    """Train a model (PGD-AT, TRADES, FGSM variants or standard) and write checkpoint, card and log."""
    from robench.core.threads import use_threads
    from robench.distributed import current
    from robench.training import train

    use_threads(config.threads)
    main = current().is_main  # under torchrun only rank 0 prints; it also writes every file
    callbacks = [_print_epoch] if main else []
    result = train(
        config, out, name, resume=resume, overwrite=overwrite, callbacks=callbacks, sync_bn=sync_bn
    )
    if not main:
        return
    summary = result.summary
    flags = summary.flags
    kinds = ("not_learning", "catastrophic_overfitting", "robust_overfitting")
    raised = [k for k in kinds if k in flags.raised()]
    typer.echo(
        f"card: {result.paths.card}  checkpoint: {result.paths.final.name}  log: {result.paths.log_csv.name}"
    )
    typer.echo(
        f"best validation PGD accuracy {summary.best_pgd:.3f} "
        f"(epoch {summary.best_epoch}, {summary.checkpoints['best'] or 'not kept'}); "
        f"flags: {', '.join(raised) or 'none'}"
    )
    if flags.not_learning is not None:
        typer.echo(f"robench: error: {flags.not_learning}", err=True)
        raise typer.Exit(1)  # the files are written (and flagged), but a run that never learned fails
    if flags.stopped_early:
        reason = (flags.catastrophic_overfitting or {}).get("reason")
        typer.echo(f"stopped early: {reason}; last good weights kept")
    typer.echo(f"evaluate with: robench evaluate --model {result.paths.card}")


TRAIN_EXTRA = [
    param(
        "out", Annotated[Path, Opt(help="output folder; models/<dataset>/<threat> puts the model in the zoo")]
    ),
    param("name", Annotated[str | None, Opt(help="model name (file stem); default: the recipe")], None),
    param("resume", Annotated[bool, Opt(help="continue the interrupted run of this name in --out")], False),
    param(
        "overwrite",
        Annotated[bool, Opt(help="replace an existing model or interrupted run of this name")],
        False,
    ),
    param(
        "sync_bn", Annotated[bool, Opt(help="under torchrun: SyncBatchNorm across ranks (CUDA only)")], False
    ),
]


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
    out: Annotated[Path | None, Opt(help="output folder (default models/DATASET/linf)")] = None,
    only: Annotated[list[str] | None, Opt(help="retrain only this model (repeatable)")] = None,
    dataset: Annotated[str, Opt(help="which zoo: digits or fashion-mnist")] = "digits",
) -> None:
    """Retrain a shipped zoo (standard, pgd, trades, fgsm, fgsm-rs, ibp) reproducibly and test it."""
    from robench.training.zoo import train_zoo, zoo_for

    zoo = zoo_for(dataset)
    unknown = [n for n in only or [] if n not in zoo]
    if unknown:
        raise RobenchError(f"'{unknown[0]}' is not a {dataset} zoo model (choose from {', '.join(zoo)})")
    train_zoo(out, only, dataset)


def register(app: typer.Typer) -> None:
    app.command("train")(settings_command(train_command, TrainConfig, TRAIN_EXTRA))
    app.command("train-zoo")(train_zoo_command)
