"""RobustBench's zoo entries by name: ``robustbench:<dataset>/<threat>/<name>``.

A name is checked against the installed ``robustbench.model_zoo`` (a name never becomes a path: the files
are named after the zoo's own key). Each entry says how RobustBench 1.1.1's ``utils.load_model`` gets its
weights, in the same order of tests as that loader:

- ``timm``: the name, lower-cased with ``-`` as ``_``, plus ``_<dataset>_<threat>`` is a timm model
  registered by robustbench (the XCiT entries): weights at the model's pretrained URL, cached by torch hub
  (``$TORCH_HOME/hub/checkpoints/<file>``);
- ``ensemble``: several Google Drive files, ``<model_dir>/<dataset>/<threat>/<name>.pt_m<i>.pt``;
- ``torchvision``: an ImageNet ``Standard`` entry, whose constructor loads torchvision's weights (from the
  same torch hub cache);
- ``file``: one Google Drive file, ``<model_dir>/<dataset>/<threat>/<name>.pt``.

Corruption entries are refused: robench evaluates Linf and L2 threat models.
"""

from __future__ import annotations

import difflib
import inspect
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from robench.errors import RobenchError
from robench.models.robustbench.imports import robustbench

PREFIX = "robustbench:"
ADVERSARIAL = ("Linf", "L2")
DEFAULT_MODEL_DIR = "models"  # robustbench.utils.load_model's model_dir='./models'
CLASSES = {"cifar10": 10, "cifar100": 100, "imagenet": 1000}  # robustbench.utils.DATASET_CLASSES
#: the torchvision weights an ImageNet ``Standard`` constructor loads (``resnet50(pretrained=True)``)
TORCHVISION_WEIGHTS = {"Standard_R50": ("ResNet50_Weights", "IMAGENET1K_V1")}
EXAMPLE = "robustbench:cifar10/Linf/Carmon2019Unlabeled"


def is_zoo_name(name: Any) -> bool:
    return isinstance(name, str) and name.startswith(PREFIX)


@dataclass(frozen=True)
class ZooEntry:
    """One entry of RobustBench's model zoo and where its weights live."""

    dataset: str  # cifar10, cifar100, imagenet
    threat: str  # Linf, L2 (RobustBench's spelling)
    name: str  # the zoo's key
    kind: str  # timm, ensemble, torchvision, file
    spec: dict[str, Any] = field(compare=False, repr=False)  # the zoo's dict: model, gdrive_id, ...

    @property
    def id(self) -> str:
        return f"{PREFIX}{self.dataset}/{self.threat}/{self.name}"

    @property
    def norm(self) -> str:
        """robench's name of the threat model: linf or l2."""
        return self.threat.lower()

    @property
    def num_classes(self) -> int:
        return CLASSES[self.dataset]

    @property
    def timm_name(self) -> str:
        """The timm model name RobustBench's loader tries first."""
        return f"{self.name.lower().replace('-', '_')}_{self.dataset}_{self.threat.lower()}"

    @property
    def gdrive_ids(self) -> list[str]:
        ids = self.spec.get("gdrive_id")
        return list(ids) if isinstance(ids, list | tuple) else [ids]

    @property
    def preprocessing(self) -> str | None:
        """RobustBench's preprocessing name for ImageNet (None: the images as they are, CIFAR)."""
        if self.dataset != "imagenet":
            return None
        if self.kind == "timm":
            return timm_preprocessing(self.timm_name)
        return self.spec.get("preprocessing") or "Res256Crop224"

    def weight_files(self, model_dir: str | os.PathLike | None = None) -> list[Path]:
        """Where RobustBench keeps this entry's weights (the files robench reads)."""
        if self.kind in ("timm", "torchvision"):
            import torch

            return [Path(torch.hub.get_dir()) / "checkpoints" / Path(urlparse(self.url).path).name]
        folder = Path(model_dir if model_dir is not None else DEFAULT_MODEL_DIR) / self.dataset / self.threat
        if self.kind == "ensemble":
            return [folder / f"{self.name}.pt_m{i}.pt" for i in range(len(self.gdrive_ids))]
        return [folder / f"{self.name}.pt"]

    @property
    def url(self) -> str:
        """The download URL of a timm or torchvision entry's weights."""
        if self.kind == "timm":
            import timm

            return timm.models.get_pretrained_cfg(self.timm_name).url
        import torchvision.models

        weights, member = TORCHVISION_WEIGHTS[self.name]
        return getattr(getattr(torchvision.models, weights), member).url

    @property
    def architecture(self) -> str:
        """The zoo's constructor as its source writes it (no model is built)."""
        return self.timm_name if self.kind == "timm" else constructor_text(self.spec["model"])


def refuse_options(zoo_name: str, given: list[str]) -> None:
    """A zoo entry fixes its architecture, weights and normalisation: other model options are an error."""
    if given:
        raise RobenchError(
            f"{zoo_name} brings its own architecture, weights and normalisation; drop {', '.join(given)}"
        )


def timm_preprocessing(timm_name: str) -> str:
    """RobustBench's preprocessing for a timm entry (robustbench.data.get_timm_model_preprocessing): resize
    to floor(size / crop_pct) with the model's interpolation, center-crop the input size."""
    import math

    import timm

    cfg = timm.models.get_pretrained_cfg(timm_name)
    size = cfg.input_size[1]
    interpolation = "Bicubic" if cfg.interpolation == "bicubic" else ""
    return f"{interpolation}Res{math.floor(size / cfg.crop_pct)}Crop{size}"


def constructor_text(constructor: Any) -> str:
    """``WideResNet(depth=28, widen_factor=10)`` for a lambda, the class (and its bases) for a class."""
    if inspect.isclass(constructor):
        bases = ", ".join(b.__name__ for b in constructor.__bases__ if b is not object)
        return f"{constructor.__name__}({bases})" if bases else constructor.__name__
    try:
        source = " ".join(inspect.getsource(constructor).split())
    except (OSError, TypeError):
        return getattr(constructor, "__name__", type(constructor).__name__)
    start = source.find("lambda:")
    if start < 0:
        return constructor.__name__
    text, depth = source[start + len("lambda:") :].strip(), 0
    for position, char in enumerate(text):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth == 0 and char == ")" or depth < 0:
            return text[: position + (depth == 0)].replace("( ", "(")
    return text


def _kind(dataset: str, threat: str, name: str, spec: dict[str, Any]) -> str:
    import timm

    entry = ZooEntry(dataset, threat, name, "", spec)
    if timm.is_model(entry.timm_name):
        return "timm"
    if isinstance(spec.get("gdrive_id"), list | tuple):
        return "ensemble"
    if dataset == "imagenet" and "Standard" in name:
        return "torchvision"
    if not spec.get("gdrive_id"):
        raise RobenchError(f"RobustBench {robustbench().version} has no weights for {entry.id}")
    return "file"


def _zoo() -> dict[str, dict[str, dict[str, dict[str, Any]]]]:
    """dataset -> threat -> name -> the zoo's dict, with plain-string keys."""
    return {
        dataset.value: {threat.value: models for threat, models in threats.items()}
        for dataset, threats in robustbench().model_dicts.items()
    }


def _one_of(kind: str, value: str, choices: list[str]) -> str:
    match = next((c for c in choices if c.lower() == value.lower()), None)
    if match is None:
        close = difflib.get_close_matches(value, choices, n=3, cutoff=0.6)
        hint = f"; did you mean {' or '.join(close)}?" if close else f" (one of: {', '.join(choices)})"
        raise RobenchError(f"RobustBench has no {kind} '{value}'{hint}")
    return match


def find_entry(zoo_name: str) -> ZooEntry:
    """The entry ``robustbench:<dataset>/<threat>/<name>`` names (dataset and threat in any case)."""
    parts = zoo_name[len(PREFIX) :].split("/") if is_zoo_name(zoo_name) else []
    if len(parts) != 3 or not all(parts):
        raise RobenchError(
            f"name a RobustBench model as robustbench:<dataset>/<threat>/<name>, e.g. {EXAMPLE}"
        )
    zoo = _zoo()
    dataset = _one_of("dataset", parts[0], list(zoo))
    threat = _one_of(f"{dataset} threat model", parts[1], list(zoo[dataset]))
    if threat not in ADVERSARIAL:
        raise RobenchError(
            f"{zoo_name} is a {threat} entry: robench evaluates the adversarial threat models "
            f"({', '.join(ADVERSARIAL)}), not common corruptions"
        )
    models = zoo[dataset][threat]
    if parts[2] not in models:
        close = difflib.get_close_matches(parts[2], list(models), n=3, cutoff=0.6)
        hint = f"; did you mean {' or '.join(close)}?" if close else ""
        raise RobenchError(f"RobustBench has no {dataset}/{threat} model '{parts[2]}'{hint}")
    return zoo_entry(dataset, threat, parts[2])


def zoo_entry(dataset: str, threat: str, name: str) -> ZooEntry:
    """Any entry of the zoo by its exact keys, corruptions included (benchmarks and tests build those)."""
    spec = _zoo()[dataset][threat][name]
    return ZooEntry(dataset, threat, name, _kind(dataset, threat, name, spec), spec)


def zoo_names(*, corruptions: bool = False) -> list[tuple[str, str, str]]:
    """(dataset, threat, name) of every entry, in the zoo's order; Linf/L2 only unless ``corruptions``."""
    return [
        (dataset, threat, name)
        for dataset, threats in _zoo().items()
        for threat, models in threats.items()
        if corruptions or threat in ADVERSARIAL
        for name in models
    ]


def list_entries(dataset: str | None = None, threat: str | None = None) -> list[ZooEntry]:
    """Every Linf/L2 entry of the zoo (of one dataset and threat model when given), in the zoo's order."""
    return [
        find_entry(f"{PREFIX}{zoo_dataset}/{zoo_threat}/{name}")
        for zoo_dataset, zoo_threat, name in zoo_names()
        if (dataset is None or zoo_dataset == dataset.lower())
        and (threat is None or zoo_threat.lower() == threat.lower())
    ]
