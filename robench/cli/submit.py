"""``robench submit CHECKPOINT --card CARD`` (or the card's fields as flags): evaluate, store, add entry."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from robench.cli.options import ArchKwargsOption, DeviceOption, LeaderboardsOption, ReportsOption, StoreOption
from robench.errors import RobenchError


def card_from_flags(checkpoint: Path | None, fields: dict):
    """A card built from --name/--arch/--dataset/... (classes and normalisation default to the dataset's)."""
    from robench.data import load_dataset
    from robench.models.cards import card_from_dict
    from robench.models.checkpoint import sha256_file

    if checkpoint is None:
        raise RobenchError("give the CHECKPOINT to submit, or a --card that names it")
    missing = [f"--{k}" for k in ("name", "arch", "dataset", "threat", "eps") if fields[k] is None]
    if missing:
        raise RobenchError(f"give --card CARD, or the card's fields as flags (missing {', '.join(missing)})")
    if not checkpoint.is_file():
        raise RobenchError(f"checkpoint {checkpoint} does not exist")
    data = load_dataset(fields["dataset"], "test")
    values = {
        "name": fields["name"],
        "architecture": fields["arch"],
        "dataset": fields["dataset"],
        "num_classes": fields["num_classes"] or data.num_classes,
        "threat": fields["threat"],
        "eps": fields["eps"],
        "mean": list(fields["mean"] or data.mean),
        "std": list(fields["std"] or data.std),
        "checkpoint": checkpoint.name,
        "sha256": sha256_file(checkpoint),
    }
    values |= {k: fields[k] for k in ("recipe", "source", "paper") if fields[k] is not None}
    if fields["arch_kwargs"]:
        values["arch_kwargs"] = fields["arch_kwargs"]
    return card_from_dict(values, "given by flags")


def submit_command(
    checkpoint: Annotated[
        Path | None, typer.Argument(help="checkpoint (.safetensors or .pt); default: the card's")
    ] = None,
    card: Annotated[
        Path | None, typer.Option(help="model card (TOML/YAML) describing the checkpoint")
    ] = None,
    name: Annotated[str | None, typer.Option(help="entry name (without --card)")] = None,
    arch: Annotated[str | None, typer.Option(help="architecture (without --card)")] = None,
    dataset: Annotated[str | None, typer.Option(help="dataset (without --card)")] = None,
    threat: Annotated[str | None, typer.Option(help="linf or l2 (without --card)")] = None,
    eps: Annotated[str | None, typer.Option(help="radius, e.g. 0.3 or 8/255 (without --card)")] = None,
    num_classes: Annotated[int | None, typer.Option(help="classes (default: the dataset's)")] = None,
    mean: Annotated[str | None, typer.Option(help="normalisation mean (default: the dataset's)")] = None,
    std: Annotated[str | None, typer.Option(help="normalisation std (default: the dataset's)")] = None,
    recipe: Annotated[str | None, typer.Option(help="training recipe (default: external)")] = None,
    source: Annotated[str | None, typer.Option(help="who trained it / URL")] = None,
    paper: Annotated[str | None, typer.Option(help="paper reference")] = None,
    arch_kwargs: ArchKwargsOption = None,
    force: Annotated[bool, typer.Option(help="re-run even if the store holds this result")] = False,
    seed: Annotated[int, typer.Option(help="seed of the subset and every random start")] = 0,
    device: DeviceOption = "cpu",
    store: StoreOption = None,
    leaderboards: LeaderboardsOption = None,
    reports: ReportsOption = None,
) -> None:
    """Evaluate a checkpoint (standard suite + diagnostics), store the result, add its leaderboard entry."""
    from robench.distributed import refuse_under_torchrun

    refuse_under_torchrun("submit")
    from robench.cli.options import parse_arch_kwargs, parse_floats
    from robench.engine.evaluate import resolve_device
    from robench.leaderboard.submit import submit
    from robench.models.cards import load_card
    from robench.store import ResultsStore

    flags = {"name": name, "arch": arch, "dataset": dataset, "threat": threat, "eps": eps}
    flags |= {
        "num_classes": num_classes,
        "mean": parse_floats(mean, "--mean"),
        "std": parse_floats(std, "--std"),
    }
    flags |= {"recipe": recipe, "source": source, "paper": paper}
    flags["arch_kwargs"] = parse_arch_kwargs(arch_kwargs)
    if card is not None:
        given = [f"--{k.replace('_', '-')}" for k, v in flags.items() if v is not None]
        if given:
            raise RobenchError(f"--card fixes the model's fields; drop {', '.join(given)}")
        model_card = load_card(card)
    else:
        model_card = card_from_flags(checkpoint, flags)
    with ResultsStore(store) as results:
        done = submit(
            model_card,
            checkpoint,
            store=results,
            force=force,
            seed=seed,
            device=resolve_device(device),
            leaderboards=leaderboards,
            reports=reports,
        )
    result = done.entry.result
    how = "reused the stored result (use --force to re-run)" if done.reused else "evaluated and stored"
    typer.echo(
        f"{model_card.id}: {how}; clean {100 * result.clean_acc:.1f} %, "
        f"robust {100 * result.robust_acc:.1f} % "
        f"(worst case, n={result.n}), verdict {result.verdict}"
        + (f" [{', '.join(sorted({f.code for f in result.flags}))}]" if result.flags else "")
    )
    typer.echo(f"entry:       {done.entry_path}")
    typer.echo(f"leaderboard: {done.board.md} (.csv, .html)")
    typer.echo(f"report:      {done.report.md} (.html)")


def register(app: typer.Typer) -> None:
    app.command("submit")(submit_command)
