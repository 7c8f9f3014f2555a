"""Checkpoints are untrusted input: read tensors only, never run code from a file.

``read_state_dict`` accepts safetensors files and ``torch.save``'d state dicts, the latter only through
``torch.load(weights_only=True)`` (no fallback to unsafe unpickling, ever), possibly nested under
``state_dict`` / ``model`` / ``model_state_dict``. ``fit_state_dict`` loads them strictly after the exact
key adaptations of robench.models.keys (prefixes, wrappers, normalisation buffers, unused weights).
Every bad file is one CheckpointError sentence.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from robench.core.limits import CHECKPOINT_EXPANSION, zip_expansion
from robench.errors import CheckpointError
from robench.models.identify import identify
from robench.models.keys import CheckpointNormalization, adapt_keys
from robench.models.layouts import Layout, find_layout
from robench.models.wrapper import Normalized

NESTING_KEYS = ("state_dict", "model", "model_state_dict")
SHOWN = 3  # keys named per kind of mismatch
_SAFETENSORS_SUFFIX = ".safetensors"


def sha256_file(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _sniff(path: Path, head: bytes) -> str:
    """'safetensors', 'zip' (torch.save), 'pickle' (legacy torch.save); HTML/LFS pages raise."""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith((b"<!doctype html", b"<html", b"<head", b"<body", b"<?xml", b"<!--")):
        raise CheckpointError(
            f"{path}: this looks like an HTML page, not a checkpoint (a download link that returned a web "
            "page or a login/redirect page?); fetch the real file"
        )
    if text.startswith(b"version https://git-lfs"):
        raise CheckpointError(
            f"{path} is a Git LFS pointer, not the checkpoint; run 'git lfs pull' to fetch it"
        )
    if len(head) >= 9 and head[8:9] == b"{" and int.from_bytes(head[:8], "little") < path.stat().st_size:
        return "safetensors"
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    if head[:1] == b"\x80":
        return "pickle"
    return "unknown"


def _load_safetensors(path: Path) -> dict[str, torch.Tensor]:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        return load_file(str(path), device="cpu")
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(f"{path} is a truncated or corrupt safetensors file ({_reason(exc)})") from None


def _check_expansion(path: Path) -> None:
    """torch.save stores tensors uncompressed: compressed records are checked from the zip directory
    before torch.load allocates anything (a 523 KB deflated file once asked for 1.2 GB)."""
    problem = zip_expansion(path, CHECKPOINT_EXPANSION)
    if problem is not None:
        raise CheckpointError(f"{path} {problem}; save it again with torch.save or as safetensors")


def _load_torch(path: Path) -> object:
    _check_expansion(path)
    try:
        # a file object, so torch.load cannot re-dispatch on the file name
        with open(path, "rb") as handle, warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Detected pickle protocol")  # our own error says it all
            return torch.load(handle, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        if "weights only" in str(exc).lower() or "weights_only" in str(exc).lower():
            raise CheckpointError(
                f"{path} holds pickled Python objects, not just tensors (unpickling them could run code, "
                "e.g. a whole model saved with torch.save(model)); robench loads only tensors: save "
                "model.state_dict() or a safetensors file instead"
            ) from None
        raise CheckpointError(f"{path} is a corrupt checkpoint (unpickling failed: {_reason(exc)})") from None
    except (
        Exception
    ) as exc:  # torch.load on a damaged file fails in many ways (fuzzed: Runtime/Key/Index/...)
        raise CheckpointError(f"{path} is a truncated or corrupt checkpoint file ({_reason(exc)})") from None


def _reason(exc: Exception) -> str:
    """The first sentence of an exception's message, on one line."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text.split(". ")[0][:160]


def _unwrap(obj: object, path: Path, notes: list[str] | None = None) -> dict[str, torch.Tensor]:
    """Find the state dict inside a loaded object and check it holds tensors only; each nesting key
    unwrapped is noted in ``notes``."""
    for _ in range(3):
        if isinstance(obj, Mapping):
            key = next((k for k in NESTING_KEYS if isinstance(obj.get(k), Mapping)), None)
            if key is not None and not all(isinstance(v, torch.Tensor) for v in obj.values()):
                obj = obj[key]
                if notes is not None:
                    notes.append(f"{path}: unwrapped the state dict nested under '{key}'")
                continue
        break
    if not isinstance(obj, Mapping):
        raise CheckpointError(f"{path} holds a {type(obj).__name__}, not a state dict (a mapping of tensors)")
    bad = [str(k) for k, v in obj.items() if not isinstance(v, torch.Tensor)]
    if bad:
        raise CheckpointError(
            f"{path}: entries {', '.join(bad[:SHOWN])} are not tensors; expected a state dict "
            f"(possibly nested under {' / '.join(NESTING_KEYS)})"
        )
    if not obj:
        raise CheckpointError(f"{path} holds an empty state dict")
    return {str(k): v for k, v in obj.items()}


def read_state_dict(path: str | os.PathLike, notes: list[str] | None = None) -> dict[str, torch.Tensor]:
    """Tensors of a checkpoint file, read safely; the file's format is detected from its bytes. What was
    unwrapped to reach them is appended to ``notes``."""
    return _unwrap(read_checkpoint(path), Path(path), notes)


def read_checkpoint(path: str | os.PathLike) -> object:
    """What a checkpoint file holds (tensors, possibly in nested dicts), read safely as ``read_state_dict``
    reads it but not unwrapped: for loaders with their own key handling (robench.models.robustbench)."""
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"checkpoint file {path} does not exist")
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} is not a file")
    with open(path, "rb") as handle:
        head = handle.read(64)
    if not head:
        raise CheckpointError(f"checkpoint file {path} is empty")
    kind = _sniff(path, head)
    if kind == "safetensors" or (kind == "unknown" and path.suffix == _SAFETENSORS_SUFFIX):
        return _load_safetensors(path)
    if kind == "unknown":
        raise CheckpointError(
            f"{path} is neither a safetensors file nor a torch.save checkpoint (corrupt or another format)"
        )
    return _load_torch(path)


def _shape(t: torch.Tensor) -> str:
    return "x".join(str(d) for d in t.shape) or "scalar"


def _sample(keys: list[str]) -> str:
    keys = sorted(keys, key=lambda k: k.endswith("num_batches_tracked"))  # stable: informative keys first
    more = f", … {len(keys) - SHOWN} more" if len(keys) > SHOWN else ""
    return ", ".join(keys[:SHOWN]) + more


@dataclass(frozen=True)
class FittedCheckpoint:
    """What loading a checkpoint into a network found: its normalisation buffers and what was adapted."""

    normalization: CheckpointNormalization | None = None
    notes: tuple[str, ...] = ()


def _layout_words(name: str) -> str:
    layout = find_layout(name)
    return f"{name} ({layout.paper}: {layout.distinguishes})" if layout else name


def _refuse_family(family: Layout, state: dict[str, torch.Tensor], source: str) -> None:
    """A family name never loads a checkpoint: it names no single function."""
    found = identify(state)
    if len(found) > 1:
        raise CheckpointError(
            f"{source} fits {len(found)} layouts of '{family.name}' that share its keys but compute "
            f"different functions: {' and '.join(_layout_words(c.arch) for c in found)}; robench cannot tell "
            "them apart, so name the layout your code used (--arch, or the card's architecture)"
        )
    if found:
        raise CheckpointError(
            f"'{family.name}' names several layouts, and {source} has the keys of "
            f"{_layout_words(found[0].arch)}: use {found[0].command()}"
        )


def _suggestion(state: dict[str, torch.Tensor], arch: str) -> str:
    """'; the keys look like ...: use --arch ...' when they fit another registered layout."""
    found = [c for c in identify(state) if c.arch != arch or c.options]
    if not found:
        return ""
    caveat = f" ({found[0].caveat})" if found[0].caveat else ""
    if len(found) > 1:
        names = " or ".join(_layout_words(c.arch) for c in found)
        return f"; the keys look like {names}, which share them: name the one your code used"
    return f"; the keys look like {_layout_words(found[0].arch)}: use {found[0].command()}{caveat}"


def _check_fit(
    expected: dict[str, torch.Tensor],
    state: dict[str, torch.Tensor],
    as_saved: dict[str, torch.Tensor] | None,
    arch: str,
    num_classes: int,
    source: str,
    classes_from: str | None = None,
) -> None:
    """Raise one sentence naming missing, unexpected and mismatched keys, and the layout the keys as
    saved (``as_saved``, before unused weights were dropped) look like, if another; ``classes_from`` says
    where the class count came from when the data gave it."""
    missing = [k for k in expected if k not in state and not k.endswith("num_batches_tracked")]
    unexpected = [k for k in state if k not in expected]
    mismatched = [k for k in state if k in expected and state[k].shape != expected[k].shape]
    head = [k for k in mismatched if expected[k].ndim >= 1 and expected[k].shape[0] == num_classes]
    if mismatched and not missing and not unexpected and head == mismatched:
        found = {int(state[k].shape[0]) for k in head}
        origin = classes_from or "num_classes in the card or --num-classes"
        raise CheckpointError(
            f"{source} has {'/'.join(map(str, sorted(found)))} output classes but the model is built "
            f"for {num_classes} ({origin}; {_sample(head)})"
        )
    if missing or unexpected or mismatched:
        parts = []
        if missing:
            parts.append(f"{len(missing)} missing keys ({_sample(missing)})")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected keys ({_sample(unexpected)})")
        if mismatched:
            shapes = [f"{k} {_shape(state[k])} vs {_shape(expected[k])}" for k in mismatched]
            parts.append(f"{len(mismatched)} shape mismatches (checkpoint vs model: {_sample(shapes)})")
        hint = (
            _suggestion(as_saved if as_saved is not None else state, arch) or "; is the architecture right?"
        )
        raise CheckpointError(f"{source} does not fit architecture '{arch}': {'; '.join(parts)}{hint}")


def fit_state_dict(
    model: nn.Module,
    state: dict[str, torch.Tensor],
    *,
    arch: str,
    num_classes: int,
    source: str,
    accept_normalization: bool = False,
    classes_from: str | None = None,
) -> FittedCheckpoint:
    """Load ``state`` into ``model`` strictly, after the exact key adaptations of robench.models.keys.

    A mismatch is one sentence naming the offending keys and, when the keys fit another registered
    layout, the ``--arch`` to use; a family name (e.g. ``preact_resnet18``) never loads a checkpoint.
    Normalisation buffers in the checkpoint are returned when ``accept_normalization`` (load_model
    applies them), else refused: a caller that ignored them would compute another function.
    """
    expected = model.state_dict()
    layout = find_layout(arch)
    known = set(expected) | {name for name, _ in model.named_buffers()}
    unused = layout.unused_prefixes if layout else ()
    adapted = adapt_keys(state, known, arch=arch, source=source, unused=unused)
    if adapted.normalization is not None and not accept_normalization:
        found = adapted.normalization
        raise CheckpointError(
            f"{source} carries its input normalisation ({found.found_in}: mean {list(found.mean)}, std "
            f"{list(found.std)}), which this caller does not apply; load it with "
            "robench.models.loading.load_model"
        )
    if layout is not None and layout.is_family:
        _refuse_family(layout, adapted.state, source)
    _check_fit(expected, adapted.state, adapted.as_saved, arch, num_classes, source, classes_from)
    cast = _check_dtypes(expected, adapted.state, source)
    model.load_state_dict(adapted.state, strict=True)
    return FittedCheckpoint(adapted.normalization, tuple(adapted.notes) + cast)


#: floating-point weights loaded by a cast (half precision and bfloat16 exactly, float64 rounded)
CAST_FLOATS = (torch.float16, torch.bfloat16, torch.float64)


def _check_dtypes(
    expected: dict[str, torch.Tensor], state: dict[str, torch.Tensor], source: str
) -> tuple[str, ...]:
    """Floating-point weights where the network has them: integer, boolean or complex tensors (quantised or
    corrupt) and float8 ones (their scales are not in a state dict) are refused; float16, bfloat16 and
    float64 are cast to the network's dtype, and the note says so."""
    wrong = [k for k in state if expected[k].is_floating_point() and not _castable(state[k], expected[k])]
    if wrong:
        found = "/".join(sorted({str(state[k].dtype).removeprefix("torch.") for k in wrong}))
        into = str(expected[wrong[0]].dtype).removeprefix("torch.")
        raise CheckpointError(
            f"{source} holds {found} tensors where the network has {into} weights ({_sample(wrong)}); "
            "robench casts only float16, bfloat16 and float64 weights (it does not dequantise integer, "
            "boolean or float8 checkpoints)"
        )
    cast = [k for k, v in state.items() if expected[k].is_floating_point() and v.dtype != expected[k].dtype]
    if not cast:
        return ()
    kinds = "/".join(sorted({str(state[k].dtype).removeprefix("torch.") for k in cast}))
    return (
        f"{source}: its {kinds} weights were cast to {str(expected[cast[0]].dtype).removeprefix('torch.')}",
    )


def _castable(value: torch.Tensor, expected: torch.Tensor) -> bool:
    return value.dtype == expected.dtype or value.dtype in CAST_FLOATS


def save_checkpoint(
    model_or_state_dict: nn.Module | Mapping[str, torch.Tensor], path: str | os.PathLike
) -> str:
    """Write a safetensors checkpoint (atomically) and return its sha256.

    A ``Normalized`` wrapper is unwrapped: checkpoints hold the bare network, normalisation lives in the card.
    """
    obj = model_or_state_dict
    if isinstance(obj, Normalized):
        obj = obj.net
    state = obj.state_dict() if isinstance(obj, nn.Module) else dict(obj)
    tensors = {k: v.detach().to("cpu").contiguous().clone() for k, v in state.items()}
    from safetensors.torch import save_file

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    # one metadata key only: safetensors writes metadata in hash-map order, so with several keys the
    # bytes (and the card's sha256) of identical weights would differ from run to run
    save_file(tensors, str(partial), metadata={"format": "pt"})
    os.replace(partial, path)
    return sha256_file(path)
