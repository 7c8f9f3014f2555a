"""Build a RobustBench zoo entry with the zoo's own code and load its weights the way RobustBench's
loader does (robench.models.robustbench.weights), reading every file safely first.

The zoo's normalisation stays inside its models: the module takes [0, 1] inputs. The zoo's constructors
(and timm's loading of a timm entry) run with torch.load forced to ``weights_only`` (``torch``'s own
``TORCH_FORCE_WEIGHTS_ONLY_LOAD``), so a constructor that loads a file (an ImageNet ``Standard`` entry's
torchvision weights) reads tensors only too. A missing file is fetched only when asked (``download``),
through RobustBench's own download code (Google Drive via ``robustbench.utils.download_gdrive_new``;
the torch hub download that timm and torchvision use for theirs).
"""

from __future__ import annotations

import hashlib
import os
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from torch import nn

from robench.errors import CheckpointError, RobenchError
from robench.models.checkpoint import read_checkpoint, sha256_file
from robench.models.loading import LoadedModel, LoadNote
from robench.models.normalization import Normalization
from robench.models.robustbench.entries import ZooEntry, find_entry
from robench.models.robustbench.imports import MIRRORED_VERSION, robustbench
from robench.models.robustbench.weights import load_ensemble, load_into, single_state
from robench.models.wrapper import prepare_for_eval

FORCE = "TORCH_FORCE_WEIGHTS_ONLY_LOAD"
UNFORCE = "TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD"


@contextmanager
def weights_only_loads():
    """Every torch.load in the block reads tensors only, whatever its caller asked for."""
    saved = {name: os.environ.get(name) for name in (FORCE, UNFORCE)}
    os.environ[FORCE] = "1"
    os.environ.pop(UNFORCE, None)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _download(entry: ZooEntry, path: Path, index: int) -> None:
    """One missing file, through the code RobustBench's loader would download it with."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        if entry.kind in ("file", "ensemble"):
            robustbench().utils.download_gdrive_new(entry.gdrive_ids[index], path)
        else:
            import torch.hub

            match = torch.hub.HASH_REGEX.search(path.name)
            torch.hub.download_url_to_file(entry.url, str(path), match.group(1) if match else None)
    except OSError as exc:  # requests' errors are OSErrors; gdown's are below
        raise RobenchError(f"downloading {path} for {entry.id} failed ({exc})") from None
    except Exception as exc:
        if type(exc).__module__.split(".")[0] != "gdown":
            raise
        raise RobenchError(
            f"downloading {path} for {entry.id} failed ({' '.join(str(exc).split())[:200]})"
        ) from None
    if not path.is_file():
        raise RobenchError(f"downloading {path} for {entry.id} left no file there")


def weight_paths(entry: ZooEntry, model_dir: str | os.PathLike | None, download: bool) -> list[Path]:
    """The entry's files, present (fetched first when ``download`` and missing)."""
    paths = entry.weight_files(model_dir)
    for index, path in enumerate(paths):
        if path.is_file():
            continue
        if not download:
            where = "the torch hub cache" if entry.kind in ("timm", "torchvision") else "--model-dir"
            raise CheckpointError(
                f"RobustBench's checkpoint for {entry.id} is not at {path} ({where}); pass --download to "
                "fetch it with RobustBench's download code, or put the file there"
            )
        _download(entry, path, index)
    return paths


def combined_sha256(hashes: dict[str, str]) -> str:
    """The sha256 of one file; for several, the sha256 of their ``<file name> <sha256>`` lines."""
    if len(hashes) == 1:
        return next(iter(hashes.values()))
    lines = "".join(f"{name} {digest}\n" for name, digest in hashes.items())
    return hashlib.sha256(lines.encode()).hexdigest()


def build(entry: ZooEntry, checkpoints: list[object], paths: list[Path]) -> tuple[nn.Module, list[str]]:
    """The zoo's module with the entry's weights in it, and what the loading adapted."""
    with weights_only_loads(), warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # constructors' deprecation chatter
        warnings.simplefilter("ignore", FutureWarning)
        if entry.kind == "timm":
            return _timm_model(entry, checkpoints[0], paths[0]), []
        model = construct(entry)
        if entry.kind == "torchvision":  # the constructor loaded the weights (read safely above)
            return model, []
        if entry.kind == "ensemble":
            return model, load_ensemble(model, checkpoints, entry, paths)
        return model, load_into(model, single_state(checkpoints[0], entry, paths[0], model), entry, paths[0])


def construct(entry: ZooEntry) -> nn.Module:
    """The zoo's constructor called; its failure (third-party code: e.g. an entry that needs CUDA) is one
    sentence naming the entry, as a user factory's is (robench.models.create_model)."""
    try:
        return entry.spec["model"]()
    except Exception as exc:
        reason = " ".join(str(exc).split())[:200] or "no message"
        raise RobenchError(
            f"RobustBench's constructor of {entry.id} raised {type(exc).__name__}: {reason}"
        ) from exc


def _timm_model(entry: ZooEntry, checkpoint: object, path: Path) -> nn.Module:
    """``timm.create_model(name, pretrained=True)`` as RobustBench calls it, with the file robench read
    handed to timm as the pretrained state dict (timm then filters and loads it as from its URL)."""
    import timm

    if not isinstance(checkpoint, dict):
        raise CheckpointError(f"{path} holds a {type(checkpoint).__name__}, not a checkpoint dict")
    try:
        model = timm.create_model(
            entry.timm_name,
            num_classes=entry.num_classes,
            pretrained=True,
            pretrained_cfg_overlay={"state_dict": checkpoint},
        )
    except RuntimeError as exc:
        if "state_dict" not in str(exc):
            raise
        reason = " ".join(str(exc).split())[:240]
        raise CheckpointError(f"{path} does not fit RobustBench's {entry.id} ({reason})") from None
    for module in model.modules():  # the configs keep the state dict they were handed: drop it
        for cfg in (getattr(module, "pretrained_cfg", None), getattr(module, "default_cfg", None)):
            if isinstance(cfg, dict):
                cfg.pop("state_dict", None)
    return model


def load_zoo_model(
    zoo_name: str, *, model_dir: str | os.PathLike | None = None, download: bool = False, device: str = "cpu"
) -> LoadedModel:
    """The evaluation-ready module of ``robustbench:<dataset>/<threat>/<name>`` (inputs in [0, 1])."""
    entry = find_entry(zoo_name)
    paths = weight_paths(entry, model_dir, download)
    checkpoints = [read_checkpoint(path) for path in paths]  # a bad file is reported before building
    hashes = {path.name: sha256_file(path) for path in paths}
    module, notes = build(entry, checkpoints, paths)
    del checkpoints
    version = robustbench().version
    if version != MIRRORED_VERSION:
        notes.append(f"robustbench {version} is installed; robench mirrors the loader of {MIRRORED_VERSION}")
    for note in notes:
        warnings.warn(note, LoadNote, stacklevel=2)
    return LoadedModel(
        module=prepare_for_eval(module, quiet=True).to(device),
        name=entry.id,
        sha256=combined_sha256(hashes),
        architecture=entry.architecture,
        layout="robustbench.model_zoo",
        normalization=Normalization((), (), "architecture", "inside RobustBench's model; inputs in [0, 1]"),
        notes=tuple(notes),
        robustbench=provenance(entry, hashes, version),
    )


def provenance(entry: ZooEntry, hashes: dict[str, str], version: str) -> dict[str, Any]:
    """What every record of this model keeps about the entry."""
    return {
        "entry": entry.id,
        "version": version,
        "kind": entry.kind,
        "files": hashes,
        "preprocessing": entry.preprocessing,
    }
