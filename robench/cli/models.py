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
    ) -> None:
        """List the registered architectures and the model cards."""
        listing = _models_listing(models_root)
        if check:
            _check_cards(models_root)
        if as_json:
            typer.echo(json.dumps(listing, indent=2))
        else:
            _print_tables(listing)
