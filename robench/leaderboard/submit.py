"""Submit a checkpoint: validate it, evaluate it (or reuse the stored result), write its entry, regenerate
its board and report.

Evaluation subset (``EVALUATION_N``): digits uses a fixed 200-image subset of its 360-image test split
(seed 0; AutoAttack's Square stage costs ~5,000 passes per robust point, and 200 points keep the demo's
five evaluations within a few minutes on 2 CPU cores); any other dataset ``DEFAULT_N`` = 1,000 points
of the deterministic subset for the seed. The suite is ``standard``
with diagnostics, in cascade mode. A stored result with the same key (checkpoint sha256, dataset, threat,
eps, suite name and version, subset, seed, mode) and a verdict is reused unless ``force``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from robench.core.record import EvaluationResult
from robench.errors import CheckpointError, RobenchError
from robench.leaderboard.entries import Entry, load_entries, make_entry, write_entry
from robench.leaderboard.formatting import eps_text
from robench.models.cards import ModelCard
from robench.store import ResultKey, ResultsStore, SqliteState

EVALUATION_N: dict[str, int | None] = {"digits": 200}  # None would mean: the whole test split
DEFAULT_N = 1000
SUITE = "standard"


@dataclass
class Submission:
    entry: Entry
    entry_path: Path
    reused: bool  # True when the stored result was reused (no attack ran)
    board: Any = None  # robench.leaderboard.render.BoardFiles
    report: Any = None  # robench.reports.build.ReportFiles


class _StoreState(SqliteState):
    """Resume state whose final clear happens in the same transaction that stores the result."""

    def clear(self) -> None:
        pass


def evaluation_n(dataset: str, size: int) -> int | None:
    n = EVALUATION_N.get(dataset, DEFAULT_N)
    return None if n is None or n >= size else n


def _check_board(card: ModelCard, leaderboards: str | os.PathLike | None) -> None:
    for other in load_entries(card.dataset, card.threat, leaderboards):
        if abs(other.result.eps - card.eps) > 1e-12:
            raise RobenchError(
                f"the {card.dataset}/{card.threat} board is evaluated at eps {eps_text(other.result.eps)} "
                f"(entry '{other.name}') but card {card.id} says eps {eps_text(card.eps)}"
            )


def validate(card: ModelCard, checkpoint: str | os.PathLike, leaderboards=None, device: str = "cpu"):
    """Safe loading, sha256 against the card, architecture and classes: returns (LoadedModel, dataset)."""
    from robench.data import load_dataset
    from robench.models.loading import load_model

    path = Path(checkpoint)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist")
    _check_board(card, leaderboards)
    dataset = load_dataset(card.dataset, "test")
    if card.num_classes != dataset.num_classes:
        raise RobenchError(
            f"card {card.id} says {card.num_classes} classes but {card.dataset} has {dataset.num_classes}"
        )
    if card.in_channels != dataset.input_shape[0]:
        raise RobenchError(
            f"card {card.id} has {card.in_channels}-channel mean/std but {card.dataset} images have "
            f"{dataset.input_shape[0]} channels"
        )
    loaded = load_model(card, checkpoint=path, device=device)
    with torch.no_grad():
        logits = loaded.module(dataset.images[:2].to(device))
    if not isinstance(logits, torch.Tensor) or tuple(logits.shape) != (2, dataset.num_classes):
        shape = tuple(logits.shape) if isinstance(logits, torch.Tensor) else type(logits).__name__
        raise CheckpointError(
            f"model {card.id} returns {shape} for 2 images, not 2 x {dataset.num_classes} logits"
        )
    return loaded, dataset


def evaluate_or_reuse(
    loaded,
    card: ModelCard,
    dataset,
    store: ResultsStore,
    *,
    force: bool = False,
    seed: int = 0,
    device: str = "cpu",
) -> tuple[EvaluationResult, bool]:
    """The stored result for this key, or a fresh (resumable, store-backed) evaluation that is then stored."""
    from robench.attacks.suites import load_suite
    from robench.models.target import Target
    from robench.threat import ThreatModel

    suite = load_suite(SUITE)
    n = evaluation_n(card.dataset, len(dataset))
    key = ResultKey(
        checkpoint_sha256=loaded.sha256,
        dataset=dataset.name,
        threat=card.threat,
        eps=float(card.eps),
        suite_name=suite.name,
        suite_version=str(suite.version),
        subset_sha256=dataset.subset(n, seed).subset_sha256(),
        seed=seed,
        mode="cascade",
    )
    if not force:
        stored = store.lookup(key, require_verdict=True)
        if stored is not None:
            return stored, True
    target = Target(loaded, dataset, ThreatModel(card.threat, card.eps), card, device)
    result = target.evaluate(suite=suite, n=n, seed=seed, diagnostics=True, state=_StoreState(store, key))
    add_eps_sweep(loaded.module, result)
    if ResultKey.of(result) != key:
        raise RuntimeError(
            f"evaluation key mismatch: {ResultKey.of(result)} != {key}"
        )  # a bug, not user error
    store.put(result)
    return result, False


def add_eps_sweep(model, result: EvaluationResult) -> None:
    """Store an eps sweep with the result (for the report's plot) unless the diagnostics left one."""
    from dataclasses import asdict

    from robench.reports.eps_sweep import curve_from_record, sweep

    if curve_from_record(result) is None:
        result.extra["eps_sweep"] = asdict(sweep(model, result))


def _shown(path: Path) -> str:
    """A path as a user would type it: relative to the working directory when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path.resolve())


def submit_command_line(card: ModelCard, checkpoint: Path) -> str:
    if card.path is not None:
        return f"robench submit {_shown(checkpoint)} --card {_shown(card.path)} --force"
    import json
    import shlex

    kwargs = f" --arch-kwargs {shlex.quote(json.dumps(card.arch_kwargs))}" if card.arch_kwargs else ""
    floats = {name: ",".join(repr(float(v)) for v in getattr(card, name)) for name in ("mean", "std")}
    return (  # every field of the card, so the command rebuilds exactly this model
        f"robench submit {_shown(checkpoint)} --name {card.name} --arch {card.architecture}{kwargs}"
        f" --num-classes {card.num_classes} --mean {floats['mean']} --std {floats['std']}"
        f" --dataset {card.dataset} --threat {card.threat} --eps {card.eps!r} --recipe {card.recipe} --force"
    )


def submit(
    card: ModelCard,
    checkpoint: str | os.PathLike | None = None,
    *,
    store: ResultsStore | None = None,
    force: bool = False,
    seed: int = 0,
    device: str = "cpu",
    leaderboards: str | os.PathLike | None = None,
    reports: str | os.PathLike | None = None,
    regenerate: bool = True,
) -> Submission:
    """Validate, evaluate (or reuse), store, write the entry, then (``regenerate``) the board and report."""
    checkpoint = Path(checkpoint) if checkpoint is not None else card.checkpoint_path
    loaded, dataset = validate(card, checkpoint, leaderboards, device)
    own_store = store is None
    store = store or ResultsStore()
    try:
        result, reused = evaluate_or_reuse(
            loaded, card, dataset, store, force=force, seed=seed, device=device
        )
    finally:
        if own_store:
            store.close()
    result.model = card.id  # a reused result may have been stored under another name for this checkpoint
    entry = make_entry(card.name, result, card)
    submission = Submission(entry=entry, entry_path=write_entry(entry, leaderboards), reused=reused)
    if regenerate:
        from robench.leaderboard.render import write_board
        from robench.reports.build import write_report

        submission.board = write_board(card.dataset, card.threat, leaderboards)
        submission.report = write_report(
            entry,
            model=loaded.module,
            card_dir=card.path.parent if card.path is not None else None,
            command=submit_command_line(card, checkpoint),
            root=reports,
        )
    return submission
