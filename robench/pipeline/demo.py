"""``robench demo``: the digits zoo through the whole pipeline, offline, in a few minutes on 2 CPU cores.

Uses the shipped zoo under ``models/digits/linf/`` (trains the missing models with the trainer's zoo
command), submits every model (the ``standard`` suite with diagnostics on the documented 200-image
digits evaluation subset, then IBP and CROWN-IBP certificates; store-backed: a rerun reuses stored
results), regenerates the digits/linf board and the reports. About 2.5-3 minutes on 2 CPU cores for the six
models (138 s measured on an idle machine, 182 s beside another job; the certified ``ibp`` model's suite is
most of what it added to the five's 86 s).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from robench.pipeline.submit import Submission, SubmitSettings, submit
from robench.progress import progress_bar

DATASET, THREAT = "digits", "linf"


@dataclass
class DemoResult:
    submissions: list[Submission]
    trained: list[str]
    store: Path


def zoo_cards(train_missing: bool = True) -> tuple[list, list[str]]:
    """The zoo's cards in the zoo's order, training any that are missing; returns (cards, trained names)."""
    from robench.models.cards import load_card
    from robench.training.zoo import ZOO, default_zoo_dir, train_zoo

    folder = default_zoo_dir()
    missing = [name for name in ZOO if not (folder / f"{name}.toml").is_file()]
    if missing and train_missing:
        print(
            f"robench demo: training the missing zoo models ({', '.join(missing)}) into {folder}", flush=True
        )
        train_zoo(folder, missing)
    return [load_card(folder / f"{name}.toml") for name in ZOO], missing


def run_demo(settings: SubmitSettings | None = None) -> DemoResult:
    """Submit every zoo model (training the missing ones) with ``settings``; returns the submissions."""
    from robench.store import ResultsStore

    settings = settings or SubmitSettings()
    cards, trained = zoo_cards()
    submissions = []
    models = progress_bar("demo: models", total=len(cards), each=True)  # a log: a line per model
    with ResultsStore(settings.store) as results, models as bar:
        for card in cards:
            bar.describe(f"demo: {card.name}")
            submissions.append(submit(card, settings=settings, store=results))
            bar.advance()
        path = results.path
    return DemoResult(submissions=submissions, trained=trained, store=path)
