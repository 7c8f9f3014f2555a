"""``robench demo``: a shipped zoo through the whole pipeline, offline (digits: minutes on 2 CPU cores).

Uses the shipped zoo under ``models/digits/linf/`` (trains the missing models with the trainer's zoo
command), submits every model (the ``standard`` suite with diagnostics on the documented 200-image
digits evaluation subset, then IBP and CROWN-IBP certificates; store-backed: a rerun reuses stored
results), regenerates the digits/linf board and the reports. About 2.5-3 minutes on 2 CPU cores for the six
models (138 s measured on an idle machine, 182 s beside another job; the certified ``ibp`` model's suite is
most of what it added to the five's 86 s).

``--dataset fashion-mnist`` does the same for the Fashion-MNIST zoo (``models/fashion-mnist/linf/``, eps
0.1, 1,000 test points per model: ``robench.pipeline.submit.DEFAULT_N``) and builds its own board,
``leaderboards/fashion-mnist/linf.*``, and reports.
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


def zoo_cards(train_missing: bool = True, dataset: str = DATASET) -> tuple[list, list[str]]:
    """The zoo's cards in the zoo's order, training any that are missing; returns (cards, trained names)."""
    from robench.models.cards import load_card
    from robench.training.zoo import default_zoo_dir, train_zoo, zoo_for

    zoo, folder = zoo_for(dataset), default_zoo_dir(dataset)
    missing = [name for name in zoo if not (folder / f"{name}.toml").is_file()]
    if missing and train_missing:
        print(
            f"robench demo: training the missing zoo models ({', '.join(missing)}) into {folder}", flush=True
        )
        train_zoo(folder, missing, dataset)
    return [load_card(folder / f"{name}.toml") for name in zoo], missing


def run_demo(settings: SubmitSettings | None = None, dataset: str = DATASET) -> DemoResult:
    """Submit every model of ``dataset``'s zoo (training the missing ones) with ``settings``."""
    from robench.store import ResultsStore

    settings = settings or SubmitSettings()
    cards, trained = zoo_cards(dataset=dataset)
    submissions = []
    models = progress_bar("demo: models", total=len(cards), each=True)  # a log: a line per model
    with ResultsStore(settings.store) as results, models as bar:
        for card in cards:
            bar.describe(f"demo: {card.name}")
            submissions.append(submit(card, settings=settings, store=results))
            bar.advance()
        path = results.path
    return DemoResult(submissions=submissions, trained=trained, store=path)
