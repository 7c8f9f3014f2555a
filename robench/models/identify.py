"""Which registered layouts a checkpoint's keys and shapes fit, read from the keys alone (no model built).

Used to refuse a family name whose layouts share the checkpoint's keys, and to suggest the right
``--arch`` when a checkpoint does not fit the one named. A suggestion is a hint in an error message,
never a choice robench makes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import torch

from robench.models.layouts import named_setting

PREACT_DEPTHS = {(2, 2, 2, 2): 18, (3, 4, 6, 3): 34}


@dataclass(frozen=True)
class Candidate:
    arch: str
    options: dict[str, Any] = field(default_factory=dict)
    caveat: str = ""  # what the keys cannot tell (e.g. the activation)

    def command(self) -> str:
        """``--arch NAME`` (with ``--arch-kwargs`` when it takes options)."""
        if not self.options:
            return f"--arch {self.arch}"
        return f"--arch {self.arch} --arch-kwargs '{json.dumps(self.options)}'"


def _count(state: Mapping[str, torch.Tensor], pattern: str) -> int:
    """How many distinct indices ``(\\d+)`` the pattern matches at the start of a key."""
    regex = re.compile(pattern)
    return len({m.group(1) for k in state if (m := regex.match(k))})


def _named(generic: str, options: dict[str, Any], caveat: str = "") -> Candidate:
    name = named_setting(generic, options)
    return Candidate(name, {}, caveat) if name else Candidate(generic, options, caveat)


def _wide_resnet(state: Mapping[str, torch.Tensor]) -> list[Candidate]:
    if not {"conv1.weight", "block1.layer.0.conv1.weight", "fc.weight"} <= set(state):
        return []
    depth = 6 * _count(state, r"block1\.layer\.(\d+)\.") + 4
    options: dict[str, Any] = {
        "depth": depth,
        "width": int(state["block1.layer.0.conv1.weight"].shape[0]) // 16,
    }
    if "fc.bias" not in state:
        options["fc_bias"] = False
    trades = any(k.startswith("sub_block1.") for k in state)
    return [_named("wide_resnet_trades" if trades else "wide_resnet", options)]


def _dm_wide_resnet(state: Mapping[str, torch.Tensor]) -> list[Candidate]:
    if not {"init_conv.weight", "layer.0.block.0.conv_0.weight", "logits.weight"} <= set(state):
        return []
    options = {
        "depth": 6 * _count(state, r"layer\.0\.block\.(\d+)\.") + 4,
        "width": int(state["layer.0.block.0.conv_0.weight"].shape[0]) // 16,
        "activation": "swish",
    }
    return [
        _named("dm_wide_resnet", options, "Swish, as in RobustBench's DeepMind entries; keys cannot tell")
    ]


def _dm_preact_resnet(state: Mapping[str, torch.Tensor]) -> list[Candidate]:
    if not {"conv_2d.weight", "layer_0.0.conv_2d_1.weight", "logits.weight"} <= set(state):
        return []
    blocks = tuple(_count(state, rf"layer_{s}\.(\d+)\.") for s in range(4))
    if blocks not in PREACT_DEPTHS:
        return []
    options = {"depth": PREACT_DEPTHS[blocks], "activation": "swish"}
    return [
        _named("dm_preact_resnet", options, "Swish, as in RobustBench's DeepMind entries; keys cannot tell")
    ]


def _cifar_resnets(state: Mapping[str, torch.Tensor]) -> list[Candidate]:
    """pytorch-cifar style ResNet (top-level bn1) or PreActResNet (no bn1), both with a ``linear`` head."""
    if not {"conv1.weight", "layer1.0.conv1.weight", "linear.weight"} <= set(state):
        return []
    blocks = tuple(_count(state, rf"layer{s}\.(\d+)\.") for s in range(1, 5))
    bottleneck = "layer1.0.conv3.weight" in state
    if "bn1.weight" in state:
        name = {(False, (2, 2, 2, 2)): "resnet18", (True, (3, 4, 6, 3)): "resnet50"}.get((bottleneck, blocks))
        return [Candidate(name)] if name else []
    if bottleneck or blocks != (2, 2, 2, 2):
        return []
    if "bn.weight" in state:
        return [Candidate("preact_resnet18_rice"), Candidate("preact_resnet18_wong")]
    return [Candidate("preact_resnet18_wong_nobn")]


def _torchvision_resnets(state: Mapping[str, torch.Tensor]) -> list[Candidate]:
    stem = state.get("conv1.weight")
    if stem is None or stem.ndim != 4 or stem.shape[-1] != 7 or "fc.weight" not in state:
        return []
    blocks = tuple(_count(state, rf"layer{s}\.(\d+)\.") for s in range(1, 5))
    bottleneck = "layer1.0.conv3.weight" in state
    name = {(False, (2, 2, 2, 2)): "torchvision_resnet18", (True, (3, 4, 6, 3)): "torchvision_resnet50"}
    found = name.get((bottleneck, blocks))
    return [Candidate(found)] if found else []


RULES: tuple[Callable[[Mapping[str, torch.Tensor]], list[Candidate]], ...] = (
    _wide_resnet,
    _dm_wide_resnet,
    _dm_preact_resnet,
    _cifar_resnets,
    _torchvision_resnets,
)


def identify(state: Mapping[str, torch.Tensor]) -> list[Candidate]:
    """The registered layouts these keys look like (several when layouts share keys); may be empty."""
    return [candidate for rule in RULES for candidate in rule(state)]
