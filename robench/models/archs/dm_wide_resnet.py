"""DeepMind's WideResNet (Gowal et al. 2020, Rebuffi et al. 2021): deepmind-research
``adversarial_robustness/pytorch/model_zoo.py`` ``WideResNet``, RobustBench's ``DMWideResNet``.

Keys ``init_conv``, ``layer.<g>.block.<i>.{batchnorm_0, conv_0, batchnorm_1, conv_1, shortcut}``,
``batchnorm``, ``logits``. Unlike the TRADES-style WideResNet, the first 3x3 conv of a block is padded
like TensorFlow's 'SAME' (one row/column after the input when the stride is 2, none before), and the
activation is a constructor argument that no checkpoint records: Swish in every RobustBench entry and in
DeepMind's released checkpoints, ReLU as the code's default.

The DeepMind code normalises inside forward, ``(x - mean) / std`` with constructor values that are not
in the checkpoint. robench's module does not: the mean/std come from the one normalisation rule
(robench.models.normalization), which uses DeepMind's CIFAR-10 / CIFAR-100 values when neither the caller,
the card nor the checkpoint gives any, and applies them with ``Normalized`` outside the network.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from robench.errors import RobenchError
from robench.models.archs.wide_resnet import check_depth_width

ACTIVATIONS = ("swish", "relu")


def make_activation(name: str | None, arch: str) -> nn.Module:
    """Swish (= SiLU, x * sigmoid(x)) or ReLU; the checkpoint cannot tell, so the name is required."""
    if name not in ACTIVATIONS:
        raise RobenchError(
            f"{arch} needs activation = 'swish' (RobustBench's DeepMind entries) or 'relu' (the DeepMind "
            f"code's default), got {name!r}: a checkpoint does not record it"
        )
    return nn.SiLU() if name == "swish" else nn.ReLU()


def same_pad(x: torch.Tensor, stride: int) -> torch.Tensor:
    """TensorFlow 'SAME' padding for a 3x3 kernel: (1, 1, 1, 1) at stride 1, (0, 1, 0, 1) at stride 2."""
    return F.pad(x, (1, 1, 1, 1) if stride == 1 else (0, 1, 0, 1))


class DMBlock(nn.Module):
    def __init__(self, in_planes: int, planes: int, stride: int, act: str) -> None:
        super().__init__()
        self.batchnorm_0 = nn.BatchNorm2d(in_planes)
        self.relu_0 = make_activation(act, "dm_wide_resnet")
        self.conv_0 = nn.Conv2d(in_planes, planes, 3, stride=stride, padding=0, bias=False)
        self.batchnorm_1 = nn.BatchNorm2d(planes)
        self.relu_1 = make_activation(act, "dm_wide_resnet")
        self.conv_1 = nn.Conv2d(planes, planes, 3, stride=1, padding=1, bias=False)
        self.shortcut = None
        if in_planes != planes:  # DeepMind's rule: a projection only where the channels change
            self.shortcut = nn.Conv2d(in_planes, planes, 1, stride=stride, padding=0, bias=False)
        self.stride = stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        activated = self.relu_0(self.batchnorm_0(x))
        out = self.conv_0(same_pad(activated, self.stride))
        out = self.conv_1(self.relu_1(self.batchnorm_1(out)))
        return out + (x if self.shortcut is None else self.shortcut(activated))


class DMBlockGroup(nn.Module):
    def __init__(self, count: int, in_planes: int, planes: int, stride: int, act: str) -> None:
        super().__init__()
        self.block = nn.Sequential(
            *(
                DMBlock(in_planes if i == 0 else planes, planes, stride if i == 0 else 1, act)
                for i in range(count)
            )
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.block(x)


class DMWideResNet(nn.Module):
    def __init__(self, depth: int, width: int, num_classes: int, in_channels: int, act: str) -> None:
        super().__init__()
        check_depth_width(depth, width, "dm_wide_resnet")
        make_activation(act, "dm_wide_resnet")  # a bad name is refused before anything is built
        count = (depth - 4) // 6
        channels = (16, 16 * width, 32 * width, 64 * width)
        self.init_conv = nn.Conv2d(in_channels, channels[0], 3, stride=1, padding=1, bias=False)
        self.layer = nn.Sequential(
            DMBlockGroup(count, channels[0], channels[1], 1, act),
            DMBlockGroup(count, channels[1], channels[2], 2, act),
            DMBlockGroup(count, channels[2], channels[3], 2, act),
        )
        self.batchnorm = nn.BatchNorm2d(channels[3])
        self.relu = make_activation(act, "dm_wide_resnet")
        self.logits = nn.Linear(channels[3], num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.batchnorm(self.layer(self.init_conv(x))))
        return self.logits(F.adaptive_avg_pool2d(out, 1).flatten(1))


def dm_wide_resnet(
    num_classes: int = 10,
    in_channels: int = 3,
    depth: int = 28,
    width: int = 10,
    activation: str | None = None,
) -> nn.Module:
    """DeepMind WideResNet-depth-width; ``activation`` ('swish' or 'relu') is required."""
    return DMWideResNet(depth, width, num_classes, in_channels, activation)


def dm_wrn_28_10(num_classes: int = 10, in_channels: int = 3) -> nn.Module:
    """DeepMind WideResNet-28-10 with Swish (Gowal et al. 2020, Rebuffi et al. 2021; 36.5M parameters)."""
    return DMWideResNet(28, 10, num_classes, in_channels, "swish")


def dm_wrn_70_16(num_classes: int = 10, in_channels: int = 3) -> nn.Module:
    """DeepMind WideResNet-70-16 with Swish (Gowal et al. 2020, Rebuffi et al. 2021; 266.8M parameters)."""
    return DMWideResNet(70, 16, num_classes, in_channels, "swish")
