"""``package.module:function``: a dataset from the user's own loader.

The function receives ``split``, ``root``, ``image_size``, ``channels`` and ``num_classes`` when they
are set and its signature takes them (robench itself converts channels and checks num_classes; a loader
that cannot take a given image_size is an error). It returns an :class:`ImageDataset`, an
``(images, labels)`` pair or a dict with the key names of ``file:`` (formats of robench.data.arrays),
checked like a file; its name becomes ``user-<package.module-function>`` and its spec the name typed.
Code named by a file (a card) runs only with trust_code (robench.registry.check_trusted, in DataSpec).
"""

from __future__ import annotations

import inspect
from dataclasses import replace

import torch

from robench.data.array_file import IMAGE_KEYS, LABEL_KEYS, pick
from robench.data.arrays import checked_images, checked_labels, class_count, convert_channels, unit_range
from robench.data.base import ImageDataset
from robench.data.identity import board_name
from robench.errors import RobenchError
from robench.registry import import_object


def loader_arguments(fn, target: str, options: dict) -> dict:
    try:
        parameters = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        parameters = {}
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())
    taken = {name: value for name, value in options.items() if takes_any or name in parameters}
    if "image_size" in options and "image_size" not in taken:  # the others robench applies or ignores
        raise RobenchError(f"dataset loader '{target}' takes no image_size argument")
    return taken


def checked_dataset(
    data: ImageDataset, where: str, channels: int | None, classes: int | None
) -> ImageDataset:
    count = len(data)
    if count == 0:
        raise RobenchError(f"{where}: holds no images")
    if not data.is_lazy:
        if data.images.ndim != 4 or data.images.shape[0] != count:
            raise RobenchError(f"{where}: images must be N x C x H x W with one image per label")
        images, conversion = convert_channels(unit_range(data.images, where), channels, where)
        steps = _joined(data.preprocessing, conversion)
        data = replace(data, images=images.contiguous(), preprocessing=steps)
    elif channels not in (None, data.images.shape[1]):
        raise RobenchError(f"{where}: returned {data.images.shape[1]}-channel images, not {channels}")
    labels = checked_labels(data.labels, count, where)
    indices = checked_labels(data.indices, count, where, "indices")
    if len(torch.unique(indices)) != count:
        raise RobenchError(f"{where}: canonical indices repeat")
    classes = class_count(labels, classes or data.num_classes, where)
    return replace(data, labels=labels, indices=indices, num_classes=classes)


def _joined(first: str, second: str) -> str:
    steps = [step for step in (first, second) if step and step != "none"]
    return "+".join(steps) or "none"


def dataset_from_arrays(content, where: str, split: str, channels, num_classes) -> ImageDataset:
    if isinstance(content, dict):
        content = (pick(content, IMAGE_KEYS, "images", where), pick(content, LABEL_KEYS, "labels", where))
    if not (isinstance(content, (tuple, list)) and len(content) == 2):
        kind = type(content).__name__
        raise RobenchError(f"{where}: returned {kind}; return an ImageDataset or (images, labels)")
    images, conversion = checked_images(content[0], where, channels)
    labels = checked_labels(content[1], images.shape[0], where)
    count = images.shape[1]
    return ImageDataset(
        name="user",
        split=split,
        images=images,
        labels=labels,
        indices=torch.arange(len(labels), dtype=torch.int64),
        num_classes=class_count(labels, num_classes, where),
        mean=(0.0,) * count,
        std=(1.0,) * count,
        preprocessing=conversion,
    )


def load_user_dataset(target: str, split: str = "test", **options) -> ImageDataset:
    """Call the loader named ``target`` (already allowed by the caller) and check what it returns."""
    fn = import_object(target)
    if not callable(fn):
        raise RobenchError(f"dataset loader '{target}' is not callable")
    given = {"split": split} | {name: value for name, value in options.items() if value is not None}
    result = fn(**loader_arguments(fn, target, given))
    where = f"dataset loader '{target}'"
    if isinstance(result, ImageDataset):
        result = checked_dataset(result, where, options.get("channels"), options.get("num_classes"))
    else:
        channels, classes = options.get("channels"), options.get("num_classes")
        result = dataset_from_arrays(result, where, split, channels, classes)
    return replace(result, name=board_name("user", target), split=split, spec=target)
