"""The caps on untrusted input, in one place: every file, name and count robench reads from a user or a
pull request is bounded before it costs memory or time. Each cap is refused with one sentence naming it
(and, where a flag raises it, the flag); docs/evaluate.md#untrusted-input is generated from ``LIMITS``.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

#: bytes of a model card or suite file (TOML/YAML); a card is a page of text
DOCUMENT_BYTES = 1 << 20
#: bytes of a leaderboard entry (JSON); an ImageNet entry with every flag's evidence is ~1 MB
ENTRY_BYTES = 16 << 20
#: nesting of lists and tables in any of them (an entry nests 5 deep)
DOCUMENT_DEPTH = 32
#: characters of an entry, card or run name (letters, digits and . _ + -)
NAME_CHARACTERS = 100
#: classes of a model or a dataset (ImageNet-21k has 21,843)
CLASSES = 100_000
#: parameters of a robench architecture built from a card or flags (WideResNet-70-16: 267 million)
PARAMETERS = 2_000_000_000
#: pixels (width x height) of one image file, checked from its header before it is decoded
IMAGE_PIXELS = 40_000_000
#: threads that decode image files at once (each holds at most one image of IMAGE_PIXELS)
DECODE_THREADS = 4
#: how many times its compressed size a checkpoint's compressed tensor data may expand (torch.save stores
#: tensors uncompressed; float weights deflate by less than 2x)
CHECKPOINT_EXPANSION = 20
#: the same for an image-array file (.pt, .npz: mostly-black 8-bit images deflate well, a bomb by ~1000x)
ARRAY_EXPANSION = 200
#: bytes of a training log a report plots
TRAINING_LOG_BYTES = 16 << 20
#: the counts an attack spec may give (``pgd-KxR``, ``apgd-t-KxT``, ``square-N``), by the setting they fill
SPEC_COUNTS = {"steps": 100_000, "restarts": 1_000, "targets": 1_000, "queries": 1_000_000}


_SPEC_EXAMPLES = {
    "steps": "K in pgd-K",
    "restarts": "R in pgd-KxR",
    "targets": "T in apgd-t-KxT",
    "queries": "N in square-N",
}


@dataclass(frozen=True)
class Limit:
    name: str
    value: str
    applies_to: str
    raised_by: str = "fixed"


LIMITS: tuple[Limit, ...] = (
    Limit("DOCUMENT_BYTES", f"{DOCUMENT_BYTES:,} bytes", "a model card or suite file"),
    Limit("ENTRY_BYTES", f"{ENTRY_BYTES:,} bytes", "a leaderboard entry (JSON)"),
    Limit("DOCUMENT_DEPTH", str(DOCUMENT_DEPTH), "nested lists and tables in a card, suite or entry"),
    Limit("NAME_CHARACTERS", str(NAME_CHARACTERS), "an entry, card or run name"),
    Limit("CLASSES", f"{CLASSES:,}", "num_classes of a card, --num-classes, a data file's num_classes"),
    Limit("PARAMETERS", f"{PARAMETERS:,}", "parameters of a robench architecture built from arch kwargs"),
    Limit("IMAGE_PIXELS", f"{IMAGE_PIXELS:,}", "one image file's width x height", "--max-image-pixels"),
    Limit("DECODE_THREADS", str(DECODE_THREADS), "threads decoding image files at once"),
    Limit("CHECKPOINT_EXPANSION", f"{CHECKPOINT_EXPANSION}x", "compressed tensor data in a .pt checkpoint"),
    Limit("ARRAY_EXPANSION", f"{ARRAY_EXPANSION}x", "compressed arrays in a .pt or .npz data file"),
    Limit(
        "TRAINING_LOG_BYTES", f"{TRAINING_LOG_BYTES:,} bytes", "a card's [training] log, plotted in reports"
    ),
    *(
        Limit(f"SPEC_COUNTS[{slot}]", f"{cap:,}", f"the {slot} an attack spec names ({_SPEC_EXAMPLES[slot]})")
        for slot, cap in SPEC_COUNTS.items()
    ),
)


def zip_expansion(path: str | Path, ratio: int) -> str | None:
    """Read from a zip file's directory before anything is decompressed: how its compressed members
    expand, when that is more than ``ratio`` times their compressed size (plus 1 MB); None when within
    the cap or when the file cannot be read as a zip (its reader then reports that in its own words)."""
    try:
        with zipfile.ZipFile(path) as archive:
            packed = [i for i in archive.infolist() if i.compress_type != zipfile.ZIP_STORED]
    except Exception:  # noqa: BLE001 - damaged bytes fail in many ways; the file's reader reports them
        return None
    expanded, compressed = sum(i.file_size for i in packed), sum(i.compress_size for i in packed)
    if expanded <= ratio * compressed + (1 << 20):
        return None
    return (
        f"holds compressed data that expands {expanded / max(compressed, 1):,.0f} times, to {expanded:,} "
        f"bytes (robench.core.limits allows {ratio}x)"
    )
