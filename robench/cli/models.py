"""``robench models``: the registered architectures and the model cards under the models root."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer


def _describe(arch: str) -> str:
    from robench.models import ARCHITECTURES

    doc = getattr(ARCHITECTURES.get(arch), "__doc__", None) or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


def _models_listing(root: Path | None) -> dict:
    from robench.models import ARCHITECTURES
    from robench.models.cards import list_cards, models_root

    cards = list_cards(root)
    return {
        "models_root": str(root if root is not None else models_root()),
        "architectures": [{"name": name, "description": _describe(name)} for name in ARCHITECTURES.names()],
        "cards": [
            {
                "id": card.id,
                "architecture": card.architecture,
                "recipe": card.recipe,
                "threat": card.threat,
                "eps": card.eps,
                "num_classes": card.num_classes,
                "checkpoint": card.checkpoint,
                "sha256": card.sha256,
                "path": str(card.path),
            }
            for card in cards
        ],
    }


def _check_cards(root: Path | None) -> None:
    """Load each card's checkpoint safely; the first bad one stops with its one-line error."""
    from robench.models.cards import list_cards
    from robench.models.loading import load_model
    from robench.progress import progress_bar

    cards = list_cards(root)
    with progress_bar("checking checkpoints", total=len(cards), each=True) as bar:
        for card in cards:
            load_model(card)
            bar.advance()
    typer.echo(f"checked {len(cards)} cards: every checkpoint matches its sha256 and architecture", err=True)


def _shown(text: object) -> str:
    """Text from a card for a Rich table: control sequences dropped, Rich markup shown as written."""
    from rich.markup import escape

    from robench.core.escape import terminal

    return escape(terminal(text))


def _print_tables(listing: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    archs = Table(title="Architectures (--arch NAME, or --arch package.module:factory)")
    archs.add_column("name", style="bold")
    archs.add_column("description")
    for arch in listing["architectures"]:
        archs.add_row(arch["name"], arch["description"])
    console.print(archs)

    cards = Table(title=f"Model cards under {_shown(listing['models_root'])} (--model ID)")
    for column in ("id", "architecture", "recipe", "threat", "eps", "sha256"):
        cards.add_column(column, style="bold" if column == "id" else None)
    for card in listing["cards"]:
        eps = f"{card['eps']:.6g}"
        texts = (card["id"], card["architecture"], card["recipe"], card["threat"], eps, card["sha256"][:12])
        cards.add_row(*map(_shown, texts))
    if not listing["cards"]:
        cards.caption = "no cards yet"
    console.print(cards)


def _zoo_listing(dataset: str | None, threat: str | None, model_dir: Path | None) -> dict:
    from robench.models.robustbench.entries import list_entries

    entries = list_entries(dataset, threat)
    rows = []
    for entry in entries:
        files = entry.weight_files(model_dir)
        present = sum(path.is_file() for path in files)
        rows.append(
            {
                "id": entry.id,
                "kind": entry.kind,
                "architecture": entry.architecture,
                "preprocessing": entry.preprocessing,
                "files": [str(path) for path in files],
                "present": "yes"
                if present == len(files)
                else "no"
                if not present
                else f"{present}/{len(files)}",
            }
        )
    return {"model_dir": str(model_dir or "models"), "entries": rows}


def _print_zoo(listing: dict) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(title=f"RobustBench models (--model ID; files under {listing['model_dir']} or torch hub)")
    for column in ("id", "kind", "architecture", "present"):
        table.add_column(column, style="bold" if column == "id" else None, overflow="fold")
    for row in listing["entries"]:
        table.add_row(*(Text(row[key]) for key in ("id", "kind", "architecture", "present")))
    Console().print(table)


def _zoo(as_json: bool, dataset: str | None, threat: str | None, model_dir: Path | None, check: bool) -> None:
    from robench.errors import RobenchError

    if check:
        raise RobenchError("--check loads model cards; robustbench: models are checked when they load")
    listing = _zoo_listing(dataset, threat, model_dir)
    if as_json:
        typer.echo(json.dumps(listing, indent=2))
    else:
        _print_zoo(listing)


def register(app: typer.Typer) -> None:
    @app.command("models")
    def models(
        as_json: Annotated[bool, typer.Option("--json", help="Print the listing as JSON.")] = False,
        models_root: Annotated[
            Path | None,
            typer.Option("--models-root", help="Folder of model cards (default: ROBENCH_MODELS, ./models)."),
        ] = None,
        check: Annotated[
            bool, typer.Option("--check", help="Also load every card's checkpoint (sha256, weights fit).")
        ] = False,
        source: Annotated[
            str, typer.Option(help="robench (architectures and cards) or robustbench (RobustBench's zoo)")
        ] = "robench",
        dataset: Annotated[
            str | None, typer.Option(help="robustbench: cifar10, cifar100 or imagenet")
        ] = None,
        threat: Annotated[str | None, typer.Option(help="robustbench: Linf or L2")] = None,
        model_dir: Annotated[
            Path | None, typer.Option(help="robustbench: RobustBench's model folder (default: ./models)")
        ] = None,
    ) -> None:
        """List the registered architectures and the model cards, or RobustBench's models."""
        from robench.errors import RobenchError

        if source == "robustbench":
            return _zoo(as_json, dataset, threat, model_dir, check)
        if source != "robench":
            raise RobenchError(f"--source is robench or robustbench, not '{source}'")
        if dataset or threat or model_dir:
            raise RobenchError(
                "--dataset, --threat and --model-dir list RobustBench's models: add --source robustbench"
            )
        listing = _models_listing(models_root)
        if check:
            _check_cards(models_root)
        if as_json:
            typer.echo(json.dumps(listing, indent=2))
        else:
            _print_tables(listing)
