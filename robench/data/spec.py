"""``DataSpec``: the one typed, frozen description of the data to evaluate, and its ``load()``.

Field metadata has robench.options' shape (``help``, ``option`` when the flag is not ``--<field-name>``,
``cli=False`` for fields the CLI fills from elsewhere: num_classes and trust_code from the model's flags).
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from robench.core.limits import CLASSES, IMAGE_PIXELS
from robench.data.catalog import DATASET_KINDS, DATASETS, data_root
from robench.errors import RobenchError
from robench.registry import check_trusted

if TYPE_CHECKING:  # the command line builds its options from DataSpec without importing torch
    from robench.data.base import ImageDataset

CODE_NAME = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*(\.[A-Za-z_]\w*)*")
IMAGE_SIDE = int(IMAGE_PIXELS**0.5)  # --image-size: a square image within the pixel cap
OPTION_FLAGS = {
    "image_size": "--image-size",
    "channels": "--channels",
    "num_classes": "--num-classes",
    "max_pixels": "--max-image-pixels",
    "max_image_pixels": "--max-image-pixels",
    "preprocessing": "--preprocessing",
}


def call_loader(loader, label: str, first: tuple, options: dict) -> ImageDataset:
    """``loader(*first, **options)``, refusing options it does not take with one clear sentence."""
    parameters = inspect.signature(loader).parameters
    for name in options:
        if name not in parameters:
            raise RobenchError(f"{label} does not take {OPTION_FLAGS.get(name, name)}")
    return loader(*first, **options)


def with_channels(data: ImageDataset, channels: int) -> ImageDataset:
    """In-memory images converted to ``channels`` (mean/std follow: repeated, or luma-weighted)."""
    from robench.data.arrays import LUMA, convert_channels

    if data.is_lazy or data.input_shape[0] == channels:
        return data
    images, step = convert_channels(data.images, channels, data.name)
    if channels == 3:
        mean, std = data.mean * 3, data.std * 3
    else:
        mean, std = (
            (sum(w * v for w, v in zip(LUMA, values, strict=True)),) for values in (data.mean, data.std)
        )
    steps = "+".join(s for s in (data.preprocessing, step) if s != "none")
    return replace(data, images=images, mean=mean, std=std, preprocessing=steps)


def _option(help: str, *, option: str | None = None, cli: bool = True) -> dict:
    """Field metadata in robench.options' shape: help, option (else --field-name), short, parse, cli."""
    return {"help": help, "option": option, "short": None, "parse": None, "cli": cli}


@dataclass(frozen=True)
class DataSpec:
    """What to evaluate on; ``load()`` returns the :class:`ImageDataset`."""

    spec: str | None = field(  # None: the model card's dataset
        default=None,
        metadata=_option(
            "dataset: digits, mnist, fashion-mnist, cifar10, cifar100, svhn, imagenet, folder:DIR, "
            "file:PATH (.npz/.pt/.safetensors) or package.module:function",
            option="--dataset",
        ),
    )
    split: str = field(
        default="test", metadata=_option("dataset split (imagenet: test = RobustBench's 5,000)")
    )
    root: str | None = field(
        default=None, metadata=_option("local data root (default: $ROBENCH_DATA)", option="--data-root")
    )
    image_size: int | None = field(
        default=None,
        metadata=_option("resize + center-crop images to this size (folder:; imagenet crop: 224)"),
    )
    channels: int | None = field(
        default=None, metadata=_option("convert images to 1 (gray) or 3 (RGB) channels (default: as stored)")
    )
    max_image_pixels: int | None = field(
        default=None,
        metadata=_option(
            f"refuse image files of more pixels, read from their header (default: {IMAGE_PIXELS:,})"
        ),
    )
    preprocessing: str | None = field(
        default=None,
        metadata=_option(
            "imagenet: a RobustBench preprocessing, e.g. Res256Crop224, BicubicRes256Crop224, Res224 "
            "(default: the robustbench: model's, else Res256Crop224)"
        ),
    )
    # filled from the model's --num-classes / --trust-code; own keywords so they never capture those flags
    num_classes: int | None = field(
        default=None,
        metadata=_option(
            "classes of folder:/file:/loader data (default: from the data)",
            option="--data-num-classes",
            cli=False,
        ),
    )
    trust_code: bool = field(
        default=False,
        metadata=_option(
            "run a package.module:function dataset named by a file", option="--data-trust-code", cli=False
        ),
    )
    source: str | None = field(
        default=None,
        metadata=_option("the file that named this dataset (None: typed by the user)", cli=False),
    )

    def __post_init__(self) -> None:
        if self.spec is not None and not self.spec.strip():
            raise RobenchError("the dataset name is empty")
        for name, cap in (("image_size", IMAGE_SIDE), ("num_classes", CLASSES), ("max_image_pixels", None)):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise RobenchError(f"{OPTION_FLAGS[name]} must be a positive integer, got {value!r}")
            if value is not None and cap is not None and value > cap:
                raise RobenchError(f"{OPTION_FLAGS[name]} must be at most {cap:,}, got {value:,}")
        if self.channels not in (None, 1, 3):
            raise RobenchError(f"--channels must be 1 or 3, got {self.channels!r}")

    def options(self) -> dict:
        given = {
            "image_size": self.image_size,
            "channels": self.channels,
            "num_classes": self.num_classes,
            "preprocessing": self.preprocessing,
        }
        given["max_pixels"] = self.max_image_pixels
        return {"split": self.split} | {name: value for name, value in given.items() if value is not None}

    def load(self) -> ImageDataset:
        if self.spec is None:
            raise RobenchError("give --dataset (there is no model card to take it from)")
        prefix, colon, target = self.spec.partition(":")
        if colon and prefix in DATASET_KINDS:
            return call_loader(DATASET_KINDS.get(prefix), f"{prefix}:", (target,), self.options())
        if colon and CODE_NAME.fullmatch(self.spec):
            if self.source is not None:
                check_trusted(self.spec, self.source, self.trust_code)
            from robench.data.user import load_user_dataset

            options = {k: v for k, v in self.options().items() if k != "max_pixels"}  # robench reads no file
            return load_user_dataset(self.spec, root=data_root(self.root), **options)
        if colon:
            raise RobenchError(
                f"{DATASET_KINDS.unknown_message(prefix)} in '{self.spec}'; "
                "a loader of your own is named package.module:function"
            )
        return self.load_named()

    def load_named(self) -> ImageDataset:
        """A registered dataset; num_classes is theirs, channels are converted when the loader cannot."""
        loader = DATASETS.get(self.spec)
        options = {k: v for k, v in self.options().items() if k != "num_classes"}
        channels = (
            None if "channels" in inspect.signature(loader).parameters else options.pop("channels", None)
        )
        data = call_loader(loader, self.spec, (), options | {"root": data_root(self.root)})
        return with_channels(data, channels) if channels else data
