"""WideResNet (Zagoruyko & Komodakis 2016) as used in adversarial training (Madry, Rice, TRADES, RobustBench).

Depth 6n+4, widths 16, 16k, 32k, 64k; pre-activation blocks whose 1x1 ``convShortcut`` reads relu(bn1(x));
keys of locuslab/robust_overfitting, yaodongyu/TRADES and RobustBench's ``WideResNet``
(``block1.layer.0.conv1.weight``, ``bn1``, ``fc``). The ``*_trades`` names are the TRADES / Carmon et al. /
RobustBench ``sub_block1=True`` layout: the same function, but their checkpoints also hold an extra
``sub_block1`` that forward never uses (robench drops those weights, with a note). The authors'
``avg_pool2d(out, 8)`` is global pooling at 32x32; robench pools globally.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from robench.errors import RobenchError


def check_depth_width(depth: object, width: object, arch: str) -> None:
    """A WideResNet's depth is 6n+4 and its width a positive integer (arch kwargs come from JSON)."""
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 10 or (depth - 4) % 6 != 0:
        raise RobenchError(f"{arch} depth must be 6n+4 (10, 16, 22, 28, 34, 70, ...), got {depth!r}")
    if isinstance(width, bool) or not isinstance(width, int) or width < 1:
        raise RobenchError(f"{arch} width must be a positive integer, got {width!r}")


class WideBlock(nn.Module):
    def __init__(self, in_planes: int, planes: int, stride: int, dropout: float) -> None:
        super().__init__()
        self.bn1 = nn.BatchNorm2d(in_planes)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.relu2 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=1, padding=1, bias=False)
        self.dropout = dropout
        self.equal_in_out = in_planes == planes
        self.convShortcut = None  # RobustBench/TRADES key name, so their checkpoints load
        if not self.equal_in_out:
            self.convShortcut = nn.Conv2d(in_planes, planes, 1, stride=stride, padding=0, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu1(self.bn1(x))
        shortcut = x if self.equal_in_out else self.convShortcut(out)
        out = self.relu2(self.bn2(self.conv1(out)))
        if self.dropout > 0:
            out = F.dropout(out, p=self.dropout, training=self.training)
        return self.conv2(out) + shortcut


class WideStage(nn.Module):
    def __init__(self, count: int, in_planes: int, planes: int, stride: int, dropout: float) -> None:
        super().__init__()
        blocks = [
            WideBlock(in_planes if i == 0 else planes, planes, stride if i == 0 else 1, dropout)
            for i in range(count)
        ]
        self.layer = nn.Sequential(*blocks)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layer(x)


class WideResNet(nn.Module):
    def __init__(
        self, depth: int, width: int, num_classes: int, in_channels: int, dropout: float, fc_bias: bool = True
    ) -> None:
        super().__init__()
        check_depth_width(depth, width, "WideResNet")
        if not isinstance(fc_bias, bool):
            raise RobenchError(f"WideResNet fc_bias must be true or false, got {fc_bias!r}")
        if isinstance(dropout, bool) or not isinstance(dropout, int | float) or not 0 <= dropout < 1:
            raise RobenchError(f"WideResNet dropout must be a probability in [0, 1), got {dropout!r}")
        count = (depth - 4) // 6
        channels = (16, 16 * width, 32 * width, 64 * width)
        self.conv1 = nn.Conv2d(in_channels, channels[0], 3, stride=1, padding=1, bias=False)
        self.block1 = WideStage(count, channels[0], channels[1], 1, dropout)
        self.block2 = WideStage(count, channels[1], channels[2], 2, dropout)
        self.block3 = WideStage(count, channels[2], channels[3], 2, dropout)
        self.bn1 = nn.BatchNorm2d(channels[3])
        self.relu = nn.ReLU(inplace=True)
        self.fc = nn.Linear(channels[3], num_classes, bias=fc_bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.block3(self.block2(self.block1(self.conv1(x))))
        out = self.relu(self.bn1(out))
        out = F.adaptive_avg_pool2d(out, 1).flatten(1)
        return self.fc(out)


def wide_resnet(
    num_classes: int = 10,
    in_channels: int = 3,
    depth: int = 28,
    width: int = 10,
    dropout: float = 0.0,
    fc_bias: bool = True,
) -> nn.Module:
    """WideResNet-depth-width (depth = 6n+4); ``fc_bias=False`` is RobustBench's ``bias_last=False``."""
    return WideResNet(depth, width, num_classes, in_channels, dropout, fc_bias)


def wrn_28_10(num_classes: int = 10, in_channels: int = 3) -> nn.Module:
    """WideResNet-28-10 (36.5M parameters)."""
    return WideResNet(28, 10, num_classes, in_channels, 0.0)


def wrn_34_10(num_classes: int = 10, in_channels: int = 3) -> nn.Module:
    """WideResNet-34-10 (46.2M parameters; Madry PGD-AT)."""
    return WideResNet(34, 10, num_classes, in_channels, 0.0)


def wide_resnet_trades(
    num_classes: int = 10, in_channels: int = 3, depth: int = 34, width: int = 10, fc_bias: bool = True
) -> nn.Module:
    """WideResNet of TRADES / Carmon et al. (``sub_block1`` in the checkpoint, never used by forward)."""
    return WideResNet(depth, width, num_classes, in_channels, 0.0, fc_bias)


def wrn_28_10_trades(num_classes: int = 10, in_channels: int = 3) -> nn.Module:
    """WideResNet-28-10 with ``sub_block1`` (Carmon et al. 2019, yaircarmon/semisup-adv)."""
    return WideResNet(28, 10, num_classes, in_channels, 0.0)


def wrn_34_10_trades(num_classes: int = 10, in_channels: int = 3) -> nn.Module:
    """WideResNet-34-10 with ``sub_block1`` (Zhang et al. 2019, yaodongyu/TRADES)."""
    return WideResNet(34, 10, num_classes, in_channels, 0.0)
