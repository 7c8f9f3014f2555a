"""``folder:DIR``: images in torchvision's ImageFolder layout, ``DIR/<class>/<image>``.

Classes are the sorted class folder names (hidden folders skipped), or the names listed one per line in
``DIR/classes.txt`` (label = line number; listed classes may have no folder, unlisted folders are an
error). Images are the files with torchvision's image extensions (hidden files skipped), found by
``torchvision.datasets.folder.make_dataset``. The canonical index of an image is its position in the
list of image paths relative to DIR, sorted (POSIX separators, string order). Every header is read at
load time (unreadable files fail early); pixels are decoded lazily, converted to ``channels`` (default:
1 if every image is grayscale, else 3). Without ``image_size`` all images must have one size; with it,
each is resized (shorter side) and center-cropped to image_size x image_size (``Res{S}Crop{S}``).
"""

from __future__ import annotations

import os
from collections import Counter

import torch

from robench.core.limits import IMAGE_PIXELS
from robench.data.base import ImageDataset
from robench.data.identity import board_name
from robench.data.lazy import SINGLE_BAND_MODES, FileImages, Preprocess, open_image
from robench.errors import DatasetNotFoundError, RobenchError

CLASSES_FILE = "classes.txt"


def is_image_file(path: str) -> bool:
    from torchvision.datasets.folder import IMG_EXTENSIONS

    name = os.path.basename(path)
    return not name.startswith(".") and name.lower().endswith(IMG_EXTENSIONS)


def listed_classes(path: str, present: list[str]) -> list[str]:
    try:
        with open(path, encoding="utf-8") as handle:
            names = [line.strip() for line in handle if line.strip()]
    except (OSError, UnicodeDecodeError) as exc:
        raise RobenchError(f"{path} cannot be read as a list of class names ({exc})") from None
    repeated = sorted(name for name, count in Counter(names).items() if count > 1)
    if repeated:
        raise RobenchError(f"{path} lists class '{repeated[0]}' more than once")
    unlisted = sorted(set(present) - set(names))
    if unlisted:
        raise RobenchError(f"{path} does not list the class folder '{unlisted[0]}'")
    if not names:
        raise RobenchError(f"{path} lists no classes")
    return names


def check_links(directory: str) -> None:
    """Refuse a symlink that leaves the folder, and a symlinked folder inside it: that one loops (its
    target holds it) or shows the same images twice, under two labels."""
    root = os.path.realpath(directory)
    for parent, folders, files in os.walk(directory):
        for name in folders + files:
            path = os.path.join(parent, name)
            if not os.path.islink(path):
                continue
            target = os.path.realpath(path)
            if target != root and not target.startswith(root + os.sep):
                raise RobenchError(
                    f"{path} is a symlink that leaves the image folder {directory} (to {target})"
                )
            if os.path.isdir(path) or target == root:
                raise RobenchError(
                    f"{path} is a symlink to the folder {target} inside {directory}: it would read the same "
                    "images again (or loop); copy or move them instead"
                )


def folder_classes(directory: str) -> list[str]:
    present = sorted(e.name for e in os.scandir(directory) if e.is_dir() and not e.name.startswith("."))
    listed = os.path.join(directory, CLASSES_FILE)
    if os.path.isfile(listed):
        return listed_classes(listed, present)
    if not present:
        raise RobenchError(f"{directory} has no class folders (expected {directory}/<class>/<image>)")
    return present


def folder_samples(directory: str, classes: list[str]) -> list[tuple[str, int]]:
    """(path, label) of every image, sorted by path relative to ``directory``."""
    from torchvision.datasets.folder import make_dataset

    class_to_idx = {name: label for label, name in enumerate(classes)}
    samples = make_dataset(directory, class_to_idx, is_valid_file=is_image_file, allow_empty=True)
    if not samples:
        raise RobenchError(f"{directory} has no image files in its class folders")
    return sorted(samples, key=lambda s: os.path.relpath(s[0], directory).replace(os.sep, "/"))


def image_headers(paths: list[str], max_pixels: int) -> tuple[list[tuple[int, int]], list[str]]:
    sizes, modes = [], []
    for path in paths:
        with open_image(path, max_pixels) as image:
            sizes.append(image.size)
            modes.append(image.mode)
    return sizes, modes


def common_size(paths: list[str], sizes: list[tuple[int, int]], directory: str) -> tuple[int, int]:
    for path, size in zip(paths, sizes, strict=True):
        if size != sizes[0]:
            first, other = (f"{w}x{h}" for w, h in (sizes[0], size))
            raise RobenchError(
                f"images in {directory} have different sizes ({paths[0]} is {first}, {path} is {other}); "
                "pass an image size to resize and center-crop them"
            )
    return sizes[0]


def load_folder_dataset(
    directory: str,
    split: str = "test",
    image_size: int | None = None,
    channels: int | None = None,
    num_classes: int | None = None,
    max_pixels: int = IMAGE_PIXELS,
) -> ImageDataset:
    directory = os.path.abspath(os.path.expanduser(directory))
    if not os.path.isdir(directory):
        raise DatasetNotFoundError(f"image folder {directory} not found")
    check_links(directory)
    classes = folder_classes(directory)
    if num_classes is not None and num_classes < len(classes):
        raise RobenchError(f"{directory} has {len(classes)} classes, more than num_classes={num_classes}")
    samples = folder_samples(directory, classes)
    paths = [path for path, _ in samples]
    sizes, modes = image_headers(paths, max_pixels)
    channels = channels or (1 if set(modes) <= SINGLE_BAND_MODES else 3)
    if image_size:
        decode = Preprocess(channels, image_size, image_size, max_pixels)
        width, height = image_size, image_size
    else:
        decode = Preprocess(channels, max_pixels=max_pixels)
        width, height = common_size(paths, sizes, directory)
    return ImageDataset(
        name=board_name("folder", os.path.basename(directory)),
        split=split,
        images=FileImages(paths, decode, (channels, height, width)),
        labels=torch.tensor([label for _, label in samples], dtype=torch.int64),
        indices=torch.arange(len(samples), dtype=torch.int64),
        num_classes=num_classes or len(classes),
        mean=(0.0,) * channels,
        std=(1.0,) * channels,
        spec=f"folder:{directory}",
        preprocessing=decode.name,
    )
