"""torchvision's ImageNet ResNets (7x7 stem, max-pool, ``fc`` head, ``downsample`` shortcuts), untrained.

The layout of ``torchvision.models.resnet18/50`` and of MadryLab/robustness' ``imagenet_models.resnet50``
(Engstrom et al. 2019), whose checkpoints robench reads through their ``module.model.`` nesting.
torchvision is imported only when one of these is built.
"""

from __future__ import annotations

from torch import nn

from robench.errors import RobenchError


def _build(name: str, num_classes: int, in_channels: int) -> nn.Module:
    if in_channels != 3:
        raise RobenchError(f"torchvision_{name} takes 3 input channels, not {in_channels}")
    import torchvision.models

    return getattr(torchvision.models, name)(weights=None, num_classes=num_classes)


def torchvision_resnet18(num_classes: int = 1000, in_channels: int = 3) -> nn.Module:
    """torchvision ResNet-18 (ImageNet layout, 224x224), no weights."""
    return _build("resnet18", num_classes, in_channels)


def torchvision_resnet50(num_classes: int = 1000, in_channels: int = 3) -> nn.Module:
    """torchvision ResNet-50 (ImageNet layout; also MadryLab/robustness' ImageNet ResNet-50), no weights."""
    return _build("resnet50", num_classes, in_channels)
