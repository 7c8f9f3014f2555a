"""Submit a checkpoint: validate it, evaluate it (or reuse the stored result), write its entry, regenerate
its board and report.

Evaluation subset (``EVALUATION_N``): digits uses a fixed 200-image subset of its 360-image test split
(seed 0; AutoAttack's Square stage costs ~5,000 passes per robust point, and 200 points keep the demo's
five evaluations within a few minutes on 2 CPU cores); any other dataset ``DEFAULT_N`` = 1,000 points
of the deterministic subset for the seed. The suite is ``standard``
with diagnostics, in cascade mode, then IBP and CROWN-IBP certify the same points (``SUBMIT_METHODS``;
a model they cannot bound gets no certificate and a note). A stored result with the same key
(``robench.core.identity.EvaluationKey``) and a verdict is reused unless ``force``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from robench.core.names import check_name
from robench.core.record import EvaluationResult
from robench.core.threads import threads_field, use_threads
from robench.data import load_dataset
from robench.engine.settings import RunSettings
from robench.errors import CheckpointError, RobenchError
from robench.leaderboard.entries import Entry, load_entries, make_entry, read_entry, write_entry
from robench.leaderboard.formatting import eps_text
from robench.models.cards import ModelCard, card_from_dict, load_card
from robench.options import flag, floats, json_object, option
from robench.threat import ThreatModel, parse_eps

if TYPE_CHECKING:  # the command line builds the submit options without importing torch
    from robench.pipeline.target import Target
    from robench.store import ResultsStore

EVALUATION_N: dict[str, int | None] = {"digits": 200, "imagenet": None}  # None: the whole test split
DEFAULT_N = 1000
SUITE = "standard"


@dataclass
class Submission:
    entry: Entry
    entry_path: Path
    reused: bool  # True when the stored result was reused (no attack ran)
    board: Any = None  # robench.leaderboard.render.BoardFiles
    report: Any = None  # robench.reports.build.ReportFiles


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


def validate(
    card: ModelCard, checkpoint: str | os.PathLike, leaderboards=None, device: str = "cpu"
) -> Target:
    """Safe loading, sha256 against the card, architecture and classes: the target to evaluate."""
    import torch

    from robench.models.loading import load_model
    from robench.pipeline.target import Target, card_data_spec

    path = Path(checkpoint)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist")
    _check_board(card, leaderboards)
    dataset = card_data_spec(card).load()
    if card.num_classes != dataset.num_classes:
        raise RobenchError(
            f"card {card.id} says {card.num_classes} classes but {card.dataset} has {dataset.num_classes}"
        )
    if card.in_channels != dataset.input_shape[0]:
        raise RobenchError(
            f"card {card.id} has {card.in_channels}-channel mean/std but {card.dataset} images have "
            f"{dataset.input_shape[0]} channels"
        )
    loaded = load_model(card, checkpoint=path, device=device, dataset=dataset)
    with torch.no_grad():
        logits = loaded.module(dataset.images[:2].to(device))
    if not isinstance(logits, torch.Tensor) or tuple(logits.shape) != (2, dataset.num_classes):
        shape = tuple(logits.shape) if isinstance(logits, torch.Tensor) else type(logits).__name__
        raise CheckpointError(
            f"model {card.id} returns {shape} for 2 images, not 2 x {dataset.num_classes} logits"
        )
    return Target(loaded, dataset, ThreatModel(card.threat, card.eps), card)


def submission_run(target: Target, settings: SubmitSettings) -> RunSettings:
    """The run every submission of this dataset gets: its documented subset, the standard suite."""
    n = evaluation_n(target.data.name, len(target.data))
    return RunSettings(suite=SUITE, n=n, seed=settings.seed, device=settings.device)


def check_same_data(target: Target, settings: SubmitSettings) -> None:
    """A board compares like with like: every entry on exactly the same data (the evaluated points'
    fingerprint), and none from a dataset with files missing on disk."""
    data = target.data
    if data.missing:
        raise RobenchError(
            f"{data.spec or data.name} lacks {data.missing} samples of its split on disk: a board entry "
            "must be evaluated on the whole documented subset"
        )
    fingerprint = target.points(submission_run(target, settings)).fingerprint()
    for other in load_entries(data.name, target.threat.norm, settings.leaderboards):
        theirs = other.result.key.data_fingerprint
        if theirs and theirs != fingerprint:
            raise RobenchError(
                f"the {data.name}/{target.threat.norm} board's entry '{other.name}' was evaluated on other "
                f"data (fingerprint {theirs[:12]}… vs {fingerprint[:12]}… here: another folder, "
                "file or seed); submit to a board of its own"
            )


def evaluate_or_reuse(
    target: Target, store: ResultsStore, settings: SubmitSettings
) -> tuple[EvaluationResult, bool]:
    """The stored result for this key, or a fresh (resumable, store-backed) evaluation that is then stored
    (storing it also clears its resume state, in the same transaction)."""
    from robench.diagnostics.catalog import refresh_findings
    from robench.pipeline.certify import SUBMIT_METHODS, certify_record
    from robench.pipeline.evaluate import evaluate_target
    from robench.pipeline.keys import evaluation_key, with_suite_loaded
    from robench.pipeline.sweep import add_certified_sweep, add_eps_sweep
    from robench.store import SqliteState

    run = with_suite_loaded(submission_run(target, settings))
    key = evaluation_key(target, run)
    if not settings.force:
        stored = store.lookup(key, require_verdict=True)
        if stored is not None:
            return refresh_findings(stored), True
    result = evaluate_target(target, run, diagnostics=True, state=SqliteState(store, key), key=key)
    certify_record(target, run, result, SUBMIT_METHODS, required=False)
    add_eps_sweep(target.loaded.module, result)
    add_certified_sweep(target.loaded.module, result)
    store.put(result)
    return result, False


def _shown(path: Path) -> str:
    """A path as a user would type it from the working directory (the project folder), relative to it even
    outside it, so a report's command holds no absolute path; absolute only where no relative one exists."""
    try:
        return Path(os.path.relpath(path.resolve(), Path.cwd().resolve())).as_posix()
    except ValueError:  # another drive
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


@dataclass(frozen=True)
class SubmitSettings:
    force: bool = field(default=False, metadata=option("re-run even if the store holds this result"))
    seed: int = field(default=0, metadata=option("seed of the subset and every random start"))
    device: str = field(default="cpu", metadata=option("cpu or cuda"))
    threads: int | None = threads_field()
    store: Path | None = field(
        default=None, metadata=option("results store (default: $ROBENCH_STORE or ~/.local/share)")
    )
    leaderboards: Path | None = field(
        default=None, metadata=option("leaderboards folder (default: ./leaderboards)")
    )
    reports: Path | None = field(default=None, metadata=option("reports folder (default: ./reports)"))

    def __post_init__(self) -> None:
        from robench.core.seeding import check_seed  # torch-free start-up: imported when built

        check_seed(self.seed)


@dataclass(frozen=True)
class CardFields:
    """A model card given as flags (``robench submit CHECKPOINT --name ... --arch ...``) instead of a file."""

    name: str | None = field(default=None, metadata=option("entry name (without --card)"))
    arch: str | None = field(default=None, metadata=option("architecture (without --card)"))
    dataset: str | None = field(default=None, metadata=option("dataset (without --card)"))
    threat: str | None = field(default=None, metadata=option("linf or l2 (without --card)"))
    eps: float | None = field(
        default=None, metadata=option("radius, e.g. 0.3 or 8/255 (without --card)", parse=parse_eps)
    )
    num_classes: int | None = field(default=None, metadata=option("classes (default: the dataset's)"))
    mean: tuple[float, ...] | None = field(
        default=None,
        metadata=option("normalisation mean (default: robench's normalisation rule)", parse=floats),
    )
    std: tuple[float, ...] | None = field(
        default=None,
        metadata=option("normalisation std (default: robench's normalisation rule)", parse=floats),
    )
    recipe: str | None = field(default=None, metadata=option("training recipe (default: external)"))
    source: str | None = field(default=None, metadata=option("who trained it / URL"))
    paper: str | None = field(default=None, metadata=option("paper reference"))
    arch_kwargs: dict[str, Any] | None = field(
        default=None,
        metadata=option('architecture keyword arguments as JSON, e.g. {"width": 16}', parse=json_object),
    )

    def given(self) -> list[str]:
        return [flag(f) for f in fields(self) if getattr(self, f.name) is not None]

    def card(self, checkpoint: Path | None) -> ModelCard:
        """The card these flags describe. Classes default to the dataset's; the normalisation follows
        robench's one rule (robench.models.normalization: these flags, else the checkpoint's buffers, else
        the architecture's own, else none with a warning), the same as ``robench evaluate``."""
        from robench.models.checkpoint import sha256_file
        from robench.models.loading import load_model

        if checkpoint is None:
            raise RobenchError("give the CHECKPOINT to submit, or a --card that names it")
        missing = [flag(f) for f in fields(self) if f.name in _REQUIRED and getattr(self, f.name) is None]
        if missing:
            raise RobenchError(
                f"give --card CARD, or the card's fields as flags (missing {', '.join(missing)})"
            )
        if not checkpoint.is_file():
            raise RobenchError(f"checkpoint {checkpoint} does not exist")
        check_name(self.name, "--name")  # before any work: it becomes the entry's and the report's file name
        data = load_dataset(self.dataset, "test")
        num_classes = self.num_classes or data.num_classes
        normalization = load_model(
            checkpoint=checkpoint,
            arch=self.arch,
            num_classes=num_classes,
            in_channels=data.input_shape[0],
            mean=self.mean,
            std=self.std,
            arch_kwargs=self.arch_kwargs,
            dataset=data,
        ).normalization
        values = {
            "name": self.name,
            "architecture": self.arch,
            "dataset": self.dataset,
            "num_classes": num_classes,
            "threat": self.threat,
            "eps": self.eps,
            "mean": list(normalization.mean),
            "std": list(normalization.std),
            "checkpoint": checkpoint.name,
            "sha256": sha256_file(checkpoint),
        }
        values |= {k: getattr(self, k) for k in ("recipe", "source", "paper") if getattr(self, k) is not None}
        if self.arch_kwargs:
            values["arch_kwargs"] = self.arch_kwargs
        return card_from_dict(values, "given by flags")


_REQUIRED = ("name", "arch", "dataset", "threat", "eps")


@dataclass(frozen=True)
class SubmitRequest:
    card: Path | None = field(
        default=None, metadata=option("model card (TOML/YAML) describing the checkpoint")
    )
    fields: CardFields = field(default_factory=CardFields)
    settings: SubmitSettings = field(default_factory=SubmitSettings)

    def model_card(self, checkpoint: Path | None) -> ModelCard:
        if self.card is None:
            return self.fields.card(checkpoint)
        given = self.fields.given()
        if given:
            raise RobenchError(f"--card fixes the model's fields; drop {', '.join(given)}")
        return load_card(self.card)


def submit(
    card: ModelCard,
    checkpoint: str | os.PathLike | None = None,
    settings: SubmitSettings | None = None,
    *,
    store: ResultsStore | None = None,
    regenerate: bool = True,
) -> Submission:
    """Validate, evaluate (or reuse), store, write the entry, then (``regenerate``) the board and report.
    ``store``: an open results store (default: ``settings.store``)."""
    from robench.leaderboard.render import write_board
    from robench.reports.build import training_log, write_report
    from robench.store import ResultsStore

    settings = settings or SubmitSettings()
    if settings.threads is not None:
        use_threads(settings.threads)
    checkpoint = Path(checkpoint) if checkpoint is not None else card.checkpoint_path
    training_log(card.training, card.folder if card.path is not None else None)  # a bad log stops us here
    target = validate(card, checkpoint, settings.leaderboards, settings.device)
    check_same_data(target, settings)
    own_store = store is None
    store = store or ResultsStore(settings.store)
    try:
        result, reused = evaluate_or_reuse(target, store, settings)
    finally:
        if own_store:
            store.close()
    result.model = card.id  # a reused result may have been stored under another name for this checkpoint
    result.card = target.card_summary
    keep_training_curve(result, card)
    path = write_entry(make_entry(card.name, result, card), settings.leaderboards)
    entry = read_entry(path)  # the file as kept: the report shows its timings and date, not this run's
    submission = Submission(entry=entry, entry_path=path, reused=reused)
    if regenerate:  # the report first: the board links to it
        submission.report = write_report(
            entry,
            card_dir=card.path.parent if card.path is not None else None,
            command=submit_command_line(card, checkpoint),
            root=settings.reports,
        )
        submission.board = write_board(
            card.dataset, card.threat, settings.leaderboards, reports=submission.report.md.parent
        )
    return submission


def keep_training_curve(result: EvaluationResult, card: ModelCard) -> None:
    """A model robench trained: its training log's curves go into the entry, so that its report keeps them
    when it is regenerated from the entry wherever the model lives (``extra['training_curve']``). The log
    is read as the report reads it: inside the card's folder, a CSV of finite numbers."""
    from robench.reports.build import training_log

    log = training_log(card.training, card.folder if card.path is not None else None)
    if log is not None:
        result.extra["training_curve"] = {c: [float(v) for v in log[c]] for c in log.columns}
