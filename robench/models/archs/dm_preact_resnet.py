"""DeepMind's PreActResNet-18/34 (Rebuffi et al. 2021, Gowal et al. 2021): deepmind-research
``adversarial_robustness/pytorch/model_zoo.py`` ``PreActResNet``, RobustBench's ``DMPreActResNet``.

Keys ``conv_2d``, ``layer_<k>.<i>.{batchnorm_0, conv_2d_1, batchnorm_1, conv_2d_2, shortcut}``,
``batchnorm``, ``logits``. Unlike Rice's or Wong's PreActResNet the projection shortcut is a 3x3 conv of
the un-activated block input x, and both it and the block's first conv are padded like TensorFlow's
'SAME'. Activation (Swish or ReLU) and normalisation as in robench.models.archs.dm_wide_resnet.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from robench.errors import RobenchError
from robench.models.archs.dm_wide_resnet import make_activation, same_pad

BLOCKS = {18: (2, 2, 2, 2), 34: (3, 4, 6, 3)}


class DMPreActBlock(nn.Module):
    def __init__(self, in_planes: int, planes: int, stride: int, act: str) -> None:
        super().__init__()
        self.stride = stride
        self.batchnorm_0 = nn.BatchNorm2d(in_planes)
        self.relu_0 = make_activation(act, "dm_preact_resnet")
        self.conv_2d_1 = nn.Conv2d(in_planes, planes, 3, stride=stride, padding=0, bias=False)
        self.batchnorm_1 = nn.BatchNorm2d(planes)
        self.relu_1 = make_activation(act, "dm_preact_resnet")
        self.conv_2d_2 = nn.Conv2d(planes, planes, 3, stride=1, padding=1, bias=False)
        self.shortcut = None
        if stride != 1 or in_planes != planes:
            self.shortcut = nn.Conv2d(in_planes, planes, 3, stride=stride, padding=0, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu_0(self.batchnorm_0(x))
        shortcut = x if self.shortcut is None else self.shortcut(same_pad(x, self.stride))
        out = self.conv_2d_1(same_pad(out, self.stride))
        out = self.conv_2d_2(self.relu_1(self.batchnorm_1(out)))
        return out + shortcut


class DMPreActResNet(nn.Module):
    def __init__(self, depth: int, num_classes: int, in_channels: int, act: str) -> None:
        super().__init__()
        if depth not in BLOCKS:
            raise RobenchError(f"dm_preact_resnet depth must be 18 or 34, got {depth!r}")
        make_activation(act, "dm_preact_resnet")
        self.conv_2d = nn.Conv2d(in_channels, 64, 3, stride=1, padding=1, bias=False)
        in_planes = 64
        for stage, count in enumerate(BLOCKS[depth]):
            planes = 64 * 2**stage
            blocks = []
            for i in range(count):
                blocks.append(
                    DMPreActBlock(in_planes, planes, (1 if stage == 0 else 2) if i == 0 else 1, act)
                )
                in_planes = planes
            setattr(self, f"layer_{stage}", nn.Sequential(*blocks))
        self.batchnorm = nn.BatchNorm2d(512)
        self.relu = make_activation(act, "dm_preact_resnet")
        self.logits = nn.Linear(512, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv_2d(x)
        out = self.layer_3(self.layer_2(self.layer_1(self.layer_0(out))))
        out = self.relu(self.batchnorm(out))
        return self.logits(F.adaptive_avg_pool2d(out, 1).flatten(1))


def dm_preact_resnet(
    num_classes: int = 10, in_channels: int = 3, depth: int = 18, activation: str | None = None
) -> nn.Module:
    """DeepMind PreActResNet-18/34; ``activation`` ('swish' or 'relu') is required."""
    return DMPreActResNet(depth, num_classes, in_channels, activation)


def dm_preact_resnet18(num_classes: int = 10, in_channels: int = 3) -> nn.Module:
    """DeepMind PreActResNet-18 with Swish (Rebuffi et al. 2021, Gowal et al. 2021)."""
    return DMPreActResNet(18, num_classes, in_channels, "swish")
