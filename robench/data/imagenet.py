"""``imagenet``: ILSVRC-2012 validation images from a local folder, 1,000 classes in sorted-wnid order.

Layouts (under the data root ROOT): torchvision's ``ImageNet`` folder (``ROOT/val/<wnid>/*.JPEG``,
``ROOT/meta.bin``), the common ``ROOT/val/<wnid>/*.JPEG`` ImageFolder layout, a ROOT that is the val
folder itself, or either under ``ROOT/imagenet``. Any subset of the 1,000 class folders may be present:
a wnid's label is its position in the full sorted list (``imagenet_wnids.txt``), never among the
folders present. Images must keep their official names ``ILSVRC2012_val_NNNNNNNN.<ext>``; the
canonical index is NNNNNNNN - 1 (0..49,999), so it does not depend on which files are present.

Splits: ``test`` is RobustBench's fixed 5,000-image evaluation subset (``imagenet_robustbench_5000.txt``,
their ``helper_files/imagenet_test_image_ids.txt``, MIT licence, git blob cb6494cb), ``val`` all 50,000
validation images. Files absent from disk are counted in ``missing``. Labels are checked against the
RobustBench list (test split) and, when present, torchvision's ``meta.bin``; a disagreement is an error.
Preprocessing: resize the shorter side to floor(S / 0.875), center-crop S (default S = 224:
RobustBench's ``Res256Crop224``), or any RobustBench preprocessing by name (``preprocessing``: e.g.
``BicubicRes256Crop224``, ``Res224``, ``Crop288``; a robustbench: model brings its own). Images are decoded
lazily (only those evaluated).
"""

from __future__ import annotations

import math
import os
import pickle
import re
from functools import cache
from importlib import resources

import torch

from robench.core.limits import IMAGE_PIXELS
from robench.data.base import ImageDataset
from robench.data.lazy import FileImages, Preprocess
from robench.errors import DatasetNotFoundError, RobenchError

VALIDATION_IMAGES = 50_000
SPLITS = ("test", "val")
CROP_FRACTION = 0.875
DEFAULT_CROP = 224
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)
OFFICIAL_NAME = re.compile(r"ILSVRC2012_val_(\d{8})\.[A-Za-z]+")
WNID = re.compile(r"n\d{8}")
PREPROCESSING = re.compile(
    r"(?P<bicubic>Bicubic)?(?:Res(?P<resize>[1-9]\d{0,3}))?(?:Crop(?P<crop>[1-9]\d{0,3}))?"
)


def package_lines(filename: str) -> list[str]:
    text = resources.files("robench.data").joinpath(filename).read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip()]


@cache
def imagenet_wnids() -> tuple[str, ...]:
    """The 1,000 ILSVRC-2012 wnids in sorted order: label = position."""
    return tuple(package_lines("imagenet_wnids.txt"))


@cache
def robustbench_subset() -> tuple[tuple[int, str], ...]:
    """RobustBench's 5,000 evaluation images as (canonical index, wnid), in their file's order."""
    entries = []
    for line in package_lines("imagenet_robustbench_5000.txt"):
        wnid, filename = line.split("/")
        entries.append((int(OFFICIAL_NAME.fullmatch(filename).group(1)) - 1, wnid))
    return tuple(entries)


def find_val_folder(root: str) -> tuple[str, str]:
    """(val folder, path where torchvision's meta.bin would be)."""
    for base in (root, os.path.join(root, "imagenet")):
        if os.path.isdir(os.path.join(base, "val")):
            return os.path.join(base, "val"), os.path.join(base, "meta.bin")
        if os.path.isdir(base) and any(WNID.fullmatch(e.name) and e.is_dir() for e in os.scandir(base)):
            return base, os.path.join(os.path.dirname(base), "meta.bin")
    raise DatasetNotFoundError(
        f"no ImageNet validation folder under {root}: expected "
        f"{root}/val/<wnid>/ILSVRC2012_val_NNNNNNNN.JPEG (torchvision's ImageNet folder or the "
        "ImageFolder layout) or a root that is the val folder"
    )


def official_index(path: str) -> int:
    match = OFFICIAL_NAME.fullmatch(os.path.basename(path))
    if not match or not 1 <= int(match.group(1)) <= VALIDATION_IMAGES:
        raise RobenchError(
            f"{path} is not named ILSVRC2012_val_NNNNNNNN.JPEG (00000001..00050000); imagenet needs the "
            "official validation file names (use folder:DIR for other image folders)"
        )
    return int(match.group(1)) - 1


def class_folder_images(folder: str) -> list[str]:
    from torchvision.datasets.folder import IMG_EXTENSIONS

    names = sorted(e.name for e in os.scandir(folder) if e.is_file() and not e.name.startswith("."))
    return [os.path.join(folder, name) for name in names if name.lower().endswith(IMG_EXTENSIONS)]


def scan_val_folder(val_dir: str) -> dict[int, tuple[str, str]]:
    """canonical index -> (path, wnid folder) of every validation image present."""
    known, found = set(imagenet_wnids()), {}
    for entry in sorted(os.scandir(val_dir), key=lambda e: e.name):
        if entry.name.startswith(".") or not entry.is_dir():
            if entry.is_file() and OFFICIAL_NAME.fullmatch(entry.name):
                raise RobenchError(f"{entry.path} lies directly in {val_dir}; put images in <wnid> folders")
            continue
        if entry.name not in known:
            raise RobenchError(f"{entry.path} is not one of the 1,000 ILSVRC-2012 class folders (wnids)")
        for path in class_folder_images(entry.path):
            index = official_index(path)
            if index in found:
                raise RobenchError(f"{path} and {found[index][0]} are the same validation image")
            found[index] = (path, entry.name)
    return found


def meta_val_wnids(path: str) -> list[str] | None:
    """The 50,000 validation wnids from torchvision's meta.bin (read with weights_only=True), if present."""
    if not os.path.isfile(path):
        return None
    expected = f"{path} is not torchvision's ImageNet meta.bin (wnid_to_classes, 50,000 validation wnids)"
    try:
        content = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, OSError, EOFError, ValueError):
        raise RobenchError(expected) from None
    if not (isinstance(content, (tuple, list)) and len(content) == 2 and isinstance(content[1], list)):
        raise RobenchError(expected)
    if len(content[1]) != VALIDATION_IMAGES or not set(content[1]) <= set(imagenet_wnids()):
        raise RobenchError(expected)
    return content[1]


def check_labels(found: dict[int, tuple[str, str]], truth: dict[int, str], source: str) -> None:
    for index, (path, wnid) in found.items():
        if index in truth and truth[index] != wnid:
            raise RobenchError(f"{path} lies in folder {wnid} but {source} labels it {truth[index]}")


def imagenet_preprocess(
    image_size: int | None, preprocessing: str | None = None, max_pixels: int = IMAGE_PIXELS
) -> Preprocess:
    """Resize to floor(S / 0.875) and crop S (``--image-size``, default 224), or a RobustBench
    preprocessing by name (``Res256Crop224``, ``BicubicRes256Crop224``, ``Res224``, ``Crop288``, ...)."""
    if preprocessing is None:
        crop = image_size or DEFAULT_CROP
        return Preprocess(3, resize=math.floor(crop / CROP_FRACTION), crop=crop, max_pixels=max_pixels)
    if image_size is not None:
        raise RobenchError("give --image-size or --preprocessing, not both")
    match = PREPROCESSING.fullmatch(preprocessing)
    if match is None or not (match["resize"] or match["crop"]) or (match["bicubic"] and not match["resize"]):
        raise RobenchError(
            f"--preprocessing {preprocessing!r} is not a RobustBench preprocessing such as Res256Crop224, "
            "BicubicRes256Crop224, Res224 or Crop288"
        )
    resize, crop = (int(match[k]) if match[k] else None for k in ("resize", "crop"))
    return Preprocess(
        3,
        resize=resize,
        crop=crop,
        interpolation="bicubic" if match["bicubic"] else "bilinear",
        max_pixels=max_pixels,
    )


def split_indices(split: str) -> list[int]:
    if split == "val":
        return list(range(VALIDATION_IMAGES))
    if split == "test":
        return sorted(index for index, _ in robustbench_subset())
    raise RobenchError(f"imagenet has splits {', '.join(repr(s) for s in SPLITS)}, not '{split}'")


def load_imagenet(
    split: str = "test",
    root: str | None = None,
    image_size: int | None = None,
    channels: int | None = None,
    preprocessing: str | None = None,
    max_pixels: int = IMAGE_PIXELS,
) -> ImageDataset:
    decode = imagenet_preprocess(image_size, preprocessing, max_pixels)
    wanted = split_indices(split)
    if channels not in (None, 3):
        raise RobenchError(f"imagenet images are RGB (3 channels), not {channels}")
    if root is None:
        raise DatasetNotFoundError(
            "imagenet needs a local data root: pass --data-root DIR or set ROBENCH_DATA"
        )
    val_dir, meta_path = find_val_folder(os.path.abspath(os.path.expanduser(root)))
    found = scan_val_folder(val_dir)
    check_labels(found, dict(robustbench_subset()), "RobustBench's test list")
    truth = meta_val_wnids(meta_path)
    if truth is not None:
        check_labels(found, dict(enumerate(truth)), meta_path)
    present = [index for index in wanted if index in found]
    if not present:
        raise DatasetNotFoundError(
            f"{val_dir} holds none of the {len(wanted):,} images of imagenet's {split} split"
        )
    label_of = {wnid: label for label, wnid in enumerate(imagenet_wnids())}
    side = decode.crop or decode.resize
    return ImageDataset(
        name="imagenet",
        split=split,
        images=FileImages([found[i][0] for i in present], decode, (3, side, side)),
        labels=torch.tensor([label_of[found[i][1]] for i in present], dtype=torch.int64),
        indices=torch.tensor(present, dtype=torch.int64),
        num_classes=len(label_of),
        mean=MEAN,
        std=STD,
        spec="imagenet",
        preprocessing=decode.name,
        missing=len(wanted) - len(present),
    )
