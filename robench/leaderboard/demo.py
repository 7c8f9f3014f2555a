"""``robench demo``: the digits zoo through the whole pipeline, offline, in a few minutes on 2 CPU cores.

Uses the shipped zoo under ``models/digits/linf/`` (trains the missing models with the trainer's zoo
command), submits every model (the ``standard`` suite with diagnostics on the documented 200-image
digits evaluation subset, store-backed: a rerun reuses stored results), regenerates the digits/linf
board and the reports. About 2.5 minutes of CPU time for the five models on one core.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from robench.leaderboard.formatting import pct
from robench.leaderboard.submit import Submission, submit
from robench.progress import progress_bar
from robench.store import ResultsStore

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


def run_demo(
    *,
    store: str | os.PathLike | None = None,
    leaderboards: str | os.PathLike | None = None,
    reports: str | os.PathLike | None = None,
    force: bool = False,
    device: str = "cpu",
) -> DemoResult:
    cards, trained = zoo_cards()
    submissions = []
    with ResultsStore(store) as results, progress_bar("demo: models", total=len(cards)) as bar:
        for card in cards:
            bar.describe(f"demo: {card.name}")
            submissions.append(
                submit(
                    card,
                    store=results,
                    force=force,
                    device=device,
                    leaderboards=leaderboards,
                    reports=reports,
                )
            )
            bar.advance()
        path = results.path
    return DemoResult(submissions=submissions, trained=trained, store=path)


def summary_table(demo: DemoResult):
    """A rich Table: one row per model, the story in a glance."""
    from rich.table import Table

    first = demo.submissions[0].entry.result
    table = Table(
        title=f"{DATASET} {THREAT} eps {first.eps:g}, n={first.n} test images, suite {first.suite['name']}"
    )
    for column in (
        "model",
        "recipe",
        "clean %",
        "robust %",
        "FGSM %",
        "PGD-20 %",
        "verdict",
        "flags",
        "result",
    ):
        table.add_column(column, justify="right" if "%" in column else "left")
    for sub in demo.submissions:
        r = sub.entry.result
        flags = ", ".join(sorted({f.code for f in r.flags if f.severity == "error"})) or "-"
        verdict = "[bold red]UNRELIABLE[/]" if r.verdict == "unreliable" else r.verdict
        table.add_row(
            sub.entry.name,
            str(sub.entry.card.get("recipe", "")),
            pct(r.clean_acc),
            f"[bold]{pct(r.robust_acc)}[/]",
            pct(r.stage_acc("fgsm")),
            pct(r.stage_acc("pgd-20")),
            verdict,
            flags,
            "reused" if sub.reused else "evaluated",
        )
    return table
