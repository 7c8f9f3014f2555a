"""Model cards: one TOML (or YAML) file per model, ``models/<dataset>/<threat>/<name>.toml``.

The card, not the checkpoint, says what a model is: architecture, classes, normalisation, threat model,
and the sha256 of its checkpoint. Its id is ``<dataset>/<threat>/<name>``.
Format: docs/evaluate.md#model-cards.

A card is untrusted input, like a checkpoint: reading one imports nothing, and an ``architecture`` that
names code (``package.module:function``) is imported only when the card was read with
``trust_code=True`` or the loader is given it (robench.registry.check_trusted).
"""

from __future__ import annotations

import difflib
import os
import re
import warnings
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from robench.core.documents import read_document
from robench.core.limits import CLASSES
from robench.core.names import check_name, check_relative, relative_file
from robench.errors import Note, RobenchError
from robench.threat import NORMS, ThreatModel, parse_eps

CARD_SUFFIXES = (".toml", ".yaml", ".yml")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_OPTIONAL_TEXT = ("recipe", "source", "paper")
_OPTIONAL_NORMALIZATION = ("mean", "std")  # left out together: the checkpoint's buffers decide
_NOT_FIELDS = ("path", "trusted")  # attributes of a read card, not fields of the file
CARD_FILES = ("log", "log_json")  # [training] keys naming files beside the card


@dataclass
class ModelCard:
    name: str
    architecture: str
    dataset: str
    num_classes: int
    threat: str
    eps: float
    mean: list[float] | None  # None (left out of the file): the checkpoint's normalisation buffers decide
    std: list[float] | None
    checkpoint: str
    sha256: str
    recipe: str = "external"
    source: str = ""
    paper: str = ""
    arch_kwargs: dict[str, Any] = field(default_factory=dict)
    training: dict[str, Any] = field(default_factory=dict)
    path: Path | None = field(default=None, compare=False)  # where the card was read from
    trusted: bool = field(default=False, compare=False, repr=False)  # may its architecture name code?

    @property
    def id(self) -> str:
        return f"{self.dataset}/{self.threat}/{self.name}"

    @property
    def in_channels(self) -> int | None:
        """The input channels its mean/std fix; None when the card leaves them to the checkpoint."""
        return len(self.mean) if self.mean is not None else None

    @property
    def folder(self) -> Path:
        """Where the card lies (the working directory for a card that was never a file)."""
        return self.path.parent if self.path is not None else Path.cwd()

    @property
    def checkpoint_path(self) -> Path:
        """The checkpoint file, relative to the card's folder and inside it (robench.core.names)."""
        return relative_file(self.checkpoint, self.folder, f"model card {self.id}: checkpoint")

    def to_dict(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in _NOT_FIELDS}
        for key in ("arch_kwargs", "training"):
            if not data[key]:
                del data[key]
        for key in ("mean", "std"):
            if data[key] is None:
                del data[key]
        return data


def _fail(where: str, message: str) -> RobenchError:
    return RobenchError(f"model card {where}: {message}")


def _number_list(where: str, key: str, value: Any) -> list[float]:
    if not isinstance(value, list) or not value or not all(isinstance(v, int | float) for v in value):
        raise _fail(where, f"'{key}' must be a non-empty list of numbers, got {value!r}")
    return [float(v) for v in value]


def _normalization(where: str, data: dict[str, Any]) -> tuple[list[float] | None, list[float] | None]:
    """The card's mean and std: both, or neither (then the checkpoint's normalisation buffers decide)."""
    if "mean" not in data and "std" not in data:
        return None, None
    if ("mean" in data) != ("std" in data):
        given, other = ("mean", "std") if "mean" in data else ("std", "mean")
        raise _fail(where, f"gives '{given}' without '{other}': give both, or neither (the checkpoint's)")
    from robench.models.normalization import check_mean_std  # torch: not at the command line's start-up

    mean, std = _number_list(where, "mean", data["mean"]), _number_list(where, "std", data["std"])
    try:
        check_mean_std(data["mean"], data["std"], "normalisation")
    except RobenchError as exc:
        raise _fail(where, str(exc).removeprefix("normalisation: ")) from None
    return mean, std


def _check_fields(data: dict[str, Any], where: str) -> None:
    """Known fields only, every required one present, text where text is expected."""
    known = [f.name for f in fields(ModelCard) if f.name not in _NOT_FIELDS]
    unknown = sorted(set(data) - set(known))
    if unknown:
        close = difflib.get_close_matches(unknown[0], known, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise _fail(where, f"unknown field '{unknown[0]}'{hint}")
    optional = (*_OPTIONAL_TEXT, *_OPTIONAL_NORMALIZATION, "arch_kwargs", "training")
    missing = [k for k in known if k not in optional and k not in data]
    if missing:
        raise _fail(where, f"missing field{'s' if len(missing) > 1 else ''} {', '.join(missing)}")
    for key in ("name", "architecture", "dataset", "threat", "checkpoint", "sha256", *_OPTIONAL_TEXT):
        if key in data and not isinstance(data[key], str):
            raise _fail(where, f"'{key}' must be a string, got {data[key]!r}")
    for key in ("arch_kwargs", "training"):
        if not isinstance(data.get(key, {}), dict):
            raise _fail(where, f"'[{key}]' must be a table")


def _check_values(data: dict[str, Any], where: str) -> tuple[float, list[float], list[float]]:
    """The name, classes, threat and eps, normalisation and card-relative files; returns eps, mean, std."""
    try:
        check_name(data["name"], "'name'")
    except RobenchError as exc:
        raise _fail(where, str(exc)) from None
    num_classes = data["num_classes"]
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or not 2 <= num_classes <= CLASSES:
        raise _fail(where, f"'num_classes' must be an integer >= 2 and <= {CLASSES:,}, got {num_classes!r}")
    if data["threat"] not in NORMS:
        raise _fail(where, f"'threat' must be one of {', '.join(NORMS)}, got {data['threat']!r}")
    try:
        eps = parse_eps(data["eps"])
    except (RobenchError, TypeError, ValueError):
        raise _fail(where, f"'eps' must be a number such as 0.3 or '8/255', got {data['eps']!r}") from None
    try:
        ThreatModel(data["threat"], eps)
    except RobenchError as exc:
        raise _fail(where, f"'eps': {exc}") from None
    mean, std = _normalization(where, data)
    if not _SHA256.fullmatch(data["sha256"].lower()):
        raise _fail(where, f"'sha256' must be 64 hexadecimal digits, got {data['sha256']!r}")
    for key, value in _card_files(data):
        try:
            check_relative(value, f"'{key}'")
        except RobenchError as exc:
            raise _fail(where, str(exc)) from None
    return eps, mean, std


def _card_files(data: dict[str, Any]) -> list[tuple[str, Any]]:
    """The files a card names relative to its folder: the checkpoint, the training logs."""
    training = data.get("training") or {}
    return [("checkpoint", data["checkpoint"])] + [
        (f"training.{key}", training[key]) for key in CARD_FILES if key in training
    ]


def card_from_dict(
    data: dict[str, Any], where: str = "<dict>", path: Path | None = None, *, trust_code: bool = False
) -> ModelCard:
    """Validate a card's fields; each problem is one sentence naming the card and the field."""
    _check_fields(data, where)
    eps, mean, std = _check_values(data, where)
    if path is not None and data["name"] != path.stem:
        raise _fail(where, f"'name' is {data['name']!r} but must equal the file name {path.stem!r}")
    values = {**data, "eps": eps, "mean": mean, "std": std, "sha256": data["sha256"].lower()}
    return ModelCard(**values, path=path, trusted=trust_code)


def load_card(path: str | os.PathLike, *, trust_code: bool = False) -> ModelCard:
    """Read and validate a card; ``trust_code`` lets its architecture name code (imported at load_model)."""
    path = Path(path)
    if not path.is_file():
        raise RobenchError(f"model card {path} does not exist")
    if path.suffix not in CARD_SUFFIXES:
        raise RobenchError(f"model card {path} must be a .toml or .yaml file")
    data = read_document(path, "model card")
    if not isinstance(data, dict):
        raise _fail(str(path), "must be a table of fields")
    return card_from_dict(data, str(path), path.resolve(), trust_code=trust_code)


def write_card(card: ModelCard, path: str | os.PathLike | None = None) -> Path:
    """Write the card (TOML, or YAML for a .yaml path); returns the path written. ``card`` is not changed."""
    target = Path(path) if path is not None else card.path
    if target is None:
        raise RobenchError(f"no path given to write the card of {card.id}")
    card_from_dict(card.to_dict(), str(target), target)  # refuse to write an invalid card
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.suffix in (".yaml", ".yml"):
        target.write_text(yaml.safe_dump(card.to_dict(), sort_keys=False), encoding="utf-8")
    else:
        import tomli_w

        target.write_text(tomli_w.dumps(card.to_dict()), encoding="utf-8")
    return target


def models_root() -> Path:
    """``ROBENCH_MODELS`` if set, else ``./models`` when it holds cards, else the repository's ``models/``
    (the shipped zoo; with a note when a ``./models`` without cards was passed over)."""
    if os.environ.get("ROBENCH_MODELS"):
        return Path(os.environ["ROBENCH_MODELS"])
    shipped = Path(__file__).resolve().parents[2] / "models"
    local = Path("models")
    if local.is_dir() and (local.resolve() == shipped or _card_paths(local)):
        return local
    if local.is_dir():
        warnings.warn(
            f"./models holds no model cards; using the shipped zoo under {shipped} (set ROBENCH_MODELS to "
            "choose the folder)",
            Note,
            stacklevel=3,
        )
    return shipped


def _card_paths(base: Path) -> list[Path]:
    """Every card file under ``base``, at any depth, in path order."""
    return sorted(p for p in base.rglob("*") if p.suffix in CARD_SUFFIXES and p.is_file())


def list_cards(root: str | os.PathLike | None = None, *, trust_code: bool = False) -> list[ModelCard]:
    """Every card under the models root (at any depth), sorted by id. A card for a registered dataset
    lies in ``<dataset>/<threat>/`` (elsewhere it is an error); one naming a path (``folder:``, ``file:``)
    or a loader may lie in any folder."""
    base = Path(root) if root is not None else models_root()
    if not base.is_dir():
        return []
    cards = []
    for path in _card_paths(base):
        card = load_card(path, trust_code=trust_code)
        placed = (path.parent.parent.name, path.parent.name)
        if ":" not in card.dataset and placed != (card.dataset, card.threat):
            raise _fail(
                str(path),
                f"says {card.dataset}/{card.threat} but lies in {path.parent.parent.name}/"
                f"{path.parent.name}; move it to {card.dataset}/{card.threat}/",
            )
        cards.append(card)
    return sorted(cards, key=lambda c: c.id)


def find_card(name: str, root: str | os.PathLike | None = None, *, trust_code: bool = False) -> ModelCard:
    """A card by id ``<dataset>/<threat>/<name>``, by bare name when unambiguous, or by file path."""
    if Path(name).suffix in CARD_SUFFIXES and Path(name).is_file():
        return load_card(name, trust_code=trust_code)
    cards = list_cards(root, trust_code=trust_code)
    matches = [c for c in cards if c.id == name] if "/" in name else [c for c in cards if c.name == name]
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        raise RobenchError(
            f"model '{name}' is ambiguous: {', '.join(c.id for c in matches)}; give the full id"
        )
    known = [c.id for c in cards] + [c.name for c in cards]
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
    hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    where = root if root is not None else models_root()
    raise RobenchError(f"no model card '{name}' among the {len(cards)} cards under {where}{hint}")
