"""ResNet-18, CIFAR variant: 3x3 stem with stride 1 and no max-pool (Kuang Liu's pytorch-cifar layout)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class BasicBlock(nn.Module):
    def __init__(self, in_planes: int, planes: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut = nn.Sequential()
        if stride != 1 or in_planes != planes:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_planes, planes, 1, stride=stride, bias=False), nn.BatchNorm2d(planes)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


def residual_stages(block: type[nn.Module], blocks: tuple[int, ...]) -> tuple[list[nn.Sequential], int]:
    """Stage s: ``blocks[s]`` blocks of 64 * 2**s planes, the first with stride 2 (1 in stage 0), from a
    64-plane stem; returns the stages and the planes of the last one."""
    stages, in_planes = [], 64
    for stage, count in enumerate(blocks):
        planes = 64 * 2**stage
        strides = [1 if stage == 0 else 2] + [1] * (count - 1)
        stage_blocks = []
        for stride in strides:
            stage_blocks.append(block(in_planes, planes, stride))
            in_planes = planes
        stages.append(nn.Sequential(*stage_blocks))
    return stages, in_planes


class ResNet(nn.Module):
    def __init__(self, blocks: tuple[int, ...], num_classes: int, in_channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, 64, 3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        (self.layer1, self.layer2, self.layer3, self.layer4), in_planes = residual_stages(BasicBlock, blocks)
        self.linear = nn.Linear(in_planes, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer4(self.layer3(self.layer2(self.layer1(out))))
        out = F.adaptive_avg_pool2d(out, 1).flatten(1)
        return self.linear(out)


def resnet18(num_classes: int = 10, in_channels: int = 3) -> nn.Module:
    """ResNet-18, CIFAR variant (3x3 stem, no max-pool); global average pooling."""
    return ResNet((2, 2, 2, 2), num_classes, in_channels)
