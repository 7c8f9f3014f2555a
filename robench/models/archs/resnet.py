"""ResNet-18 / ResNet-50, CIFAR variant: 3x3 stem with stride 1 and no max-pool, ``linear`` head.

The layout of Kuang Liu's pytorch-cifar, RobustBench's ``ResNet`` and MadryLab/robustness'
``cifar_models.resnet``: post-activation blocks, a ``shortcut`` Sequential (1x1 conv + BN) where the
shape changes. The authors' ``avg_pool2d(out, 4)`` is global pooling at 32x32; robench pools globally.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def projection(in_planes: int, planes: int, stride: int) -> nn.Sequential:
    """The ``shortcut`` of a block whose shape changes (keys ``shortcut.0``, ``shortcut.1``); else empty."""
    if stride == 1 and in_planes == planes:
        return nn.Sequential()
    return nn.Sequential(nn.Conv2d(in_planes, planes, 1, stride=stride, bias=False), nn.BatchNorm2d(planes))


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, in_planes: int, planes: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut = projection(in_planes, planes, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, in_planes: int, planes: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, 4 * planes, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(4 * planes)
        self.shortcut = projection(in_planes, 4 * planes, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return F.relu(out + self.shortcut(x))


def residual_stages(
    make_block, blocks: tuple[int, ...], expansion: int = 1
) -> tuple[list[nn.Sequential], int]:
    """Stage s: ``blocks[s]`` blocks of 64 * 2**s planes, the first with stride 2 (1 in stage 0), from a
    64-plane stem; ``make_block(in_planes, planes, stride)``. Returns the stages and their output planes."""
    stages, in_planes = [], 64
    for stage, count in enumerate(blocks):
        planes = 64 * 2**stage
        strides = [1 if stage == 0 else 2] + [1] * (count - 1)
        stage_blocks = []
        for stride in strides:
            stage_blocks.append(make_block(in_planes, planes, stride))
            in_planes = planes * expansion
        stages.append(nn.Sequential(*stage_blocks))
    return stages, in_planes


class ResNet(nn.Module):
    def __init__(self, block: type[nn.Module], blocks: tuple[int, ...], num_classes: int, in_channels: int):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, 64, 3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        stages, in_planes = residual_stages(block, blocks, block.expansion)
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.linear = nn.Linear(in_planes, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer4(self.layer3(self.layer2(self.layer1(out))))
        out = F.adaptive_avg_pool2d(out, 1).flatten(1)
        return self.linear(out)


def resnet18(num_classes: int = 10, in_channels: int = 3) -> nn.Module:
    """ResNet-18, CIFAR variant (pytorch-cifar / RobustBench ``ResNet18`` / robustness ``cifar_models``)."""
    return ResNet(BasicBlock, (2, 2, 2, 2), num_classes, in_channels)


def resnet50(num_classes: int = 10, in_channels: int = 3) -> nn.Module:
    """ResNet-50, CIFAR variant (Engstrom et al. 2019, MadryLab/robustness ``cifar_models.resnet50``)."""
    return ResNet(Bottleneck, (3, 4, 6, 3), num_classes, in_channels)
