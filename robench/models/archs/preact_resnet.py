"""PreActResNet (He et al. 2016, identity mappings), CIFAR variant, in the layouts of the public codebases.

The layouts share their keys (``conv1``, ``layer1.0.bn1``, ``layer2.0.shortcut.0``, ``bn``, ``linear``) but
not their function, on two switches (RobustBench's ``PreActBlock(out_shortcut=...)`` and
``PreActResNet(bn_before_fc=...)``):

- ``shortcut_from``: the 1x1 projection shortcut reads ``"activation"``, relu(bn1(x)) (Rice et al.
  2020, locuslab/robust_overfitting), or ``"input"``, the block input x (Wong et al. 2020,
  locuslab/fast_adversarial);
- ``final_bn``: relu(bn(.)) before pooling (both codebases), or nothing at all, no BatchNorm and no ReLU
  (RobustBench's default ``PreActResNet``, as its Wong2020Fast entry builds it: no ``bn.*`` keys).

The authors' ``avg_pool2d(out, 4)`` is global pooling at 32x32; robench pools globally.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from robench.errors import RobenchError
from robench.models.archs.resnet import residual_stages

SHORTCUTS = ("activation", "input")
BLOCKS = {18: (2, 2, 2, 2), 34: (3, 4, 6, 3)}


class PreActBlock(nn.Module):
    def __init__(self, in_planes: int, planes: int, stride: int, shortcut_from: str) -> None:
        super().__init__()
        self.bn1 = nn.BatchNorm2d(in_planes)
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=1, padding=1, bias=False)
        self.shortcut_from = shortcut_from
        self.shortcut = None
        if stride != 1 or in_planes != planes:
            self.shortcut = nn.Sequential(nn.Conv2d(in_planes, planes, 1, stride=stride, bias=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(x))
        if self.shortcut is None:
            shortcut = x
        else:
            shortcut = self.shortcut(out if self.shortcut_from == "activation" else x)
        out = self.conv1(out)
        out = self.conv2(F.relu(self.bn2(out)))
        return out + shortcut


class PreActResNet(nn.Module):
    def __init__(
        self, blocks: tuple[int, ...], num_classes: int, in_channels: int, shortcut_from: str, final_bn: bool
    ) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, 64, 3, stride=1, padding=1, bias=False)

        def block(in_planes: int, planes: int, stride: int) -> nn.Module:
            return PreActBlock(in_planes, planes, stride, shortcut_from)

        (self.layer1, self.layer2, self.layer3, self.layer4), in_planes = residual_stages(block, blocks)
        self.bn = nn.BatchNorm2d(in_planes) if final_bn else None
        self.linear = nn.Linear(in_planes, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.layer4(self.layer3(self.layer2(self.layer1(self.conv1(x)))))
        if self.bn is not None:
            out = F.relu(self.bn(out))
        out = F.adaptive_avg_pool2d(out, 1).flatten(1)
        return self.linear(out)


def preact_resnet(
    num_classes: int = 10,
    in_channels: int = 3,
    depth: int = 18,
    shortcut_from: str | None = None,
    final_bn: bool | None = None,
) -> nn.Module:
    """PreActResNet-18/34 with RobustBench's switches named: ``shortcut_from`` ("activation" or "input")
    and ``final_bn`` (true or false) are required, since a checkpoint cannot tell them."""
    if shortcut_from not in SHORTCUTS:
        raise RobenchError(
            f"preact_resnet needs shortcut_from = 'activation' (Rice et al.) or 'input' (Wong et al.), "
            f"got {shortcut_from!r}"
        )
    if not isinstance(final_bn, bool):
        raise RobenchError(f"preact_resnet needs final_bn = true or false, got {final_bn!r}")
    if depth not in BLOCKS:
        raise RobenchError(f"preact_resnet depth must be 18 or 34, got {depth!r}")
    return PreActResNet(BLOCKS[depth], num_classes, in_channels, shortcut_from, final_bn)


def preact_resnet18_rice(num_classes: int = 10, in_channels: int = 3) -> nn.Module:
    """PreActResNet-18 of Rice et al. 2020 (locuslab/robust_overfitting): shortcut from relu(bn1(x))."""
    return preact_resnet(num_classes, in_channels, 18, "activation", True)


def preact_resnet18_wong(num_classes: int = 10, in_channels: int = 3) -> nn.Module:
    """PreActResNet-18 of Wong et al. 2020 (locuslab/fast_adversarial): shortcut from the block input x."""
    return preact_resnet(num_classes, in_channels, 18, "input", True)


def preact_resnet18_wong_nobn(num_classes: int = 10, in_channels: int = 3) -> nn.Module:
    """PreActResNet-18 as RobustBench's Wong2020Fast entry: shortcut from x, no final BatchNorm or ReLU."""
    return preact_resnet(num_classes, in_channels, 18, "input", False)


def preact_resnet18(num_classes: int = 10, in_channels: int = 3) -> nn.Module:
    """PreActResNet-18, family name: a fresh model is Rice et al.'s layout; a checkpoint must name its own."""
    return preact_resnet18_rice(num_classes, in_channels)
