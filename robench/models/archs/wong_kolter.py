"""Wong & Kolter 2018's convolutional networks (locuslab/convex_adversarial, ``examples/problems.py``).

Plain ``nn.Sequential`` stacks, so their checkpoints' keys are the positions (``0.weight``, ``2.weight``,
``5.weight``, ``7.weight`` for the small nets); ``nn.Flatten`` stands where the authors' own ``Flatten``
module sits (it has no weights). Inputs in [0, 1], no normalisation inside. The small nets are the paper's
MNIST / Fashion-MNIST (28x28, 7x7 after two stride-2 convolutions) and CIFAR-10 / SVHN (32x32, 8x8) nets.
"""

from __future__ import annotations

from torch import nn


def _small(side: int, num_classes: int, in_channels: int) -> nn.Sequential:
    """conv16 4x4/2 -> conv32 4x4/2 -> fc100 -> fc (``mnist_model``, ``cifar_model``)."""
    return nn.Sequential(
        nn.Conv2d(in_channels, 16, 4, stride=2, padding=1),
        nn.ReLU(),
        nn.Conv2d(16, 32, 4, stride=2, padding=1),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(32 * side * side, 100),
        nn.ReLU(),
        nn.Linear(100, num_classes),
    )


def _large(side: int, num_classes: int, in_channels: int) -> nn.Sequential:
    """conv32 3x3 -> conv32 4x4/2 -> conv64 3x3 -> conv64 4x4/2 -> fc512 -> fc512 -> fc
    (``mnist_model_large``, ``cifar_model_large``)."""
    return nn.Sequential(
        nn.Conv2d(in_channels, 32, 3, stride=1, padding=1),
        nn.ReLU(),
        nn.Conv2d(32, 32, 4, stride=2, padding=1),
        nn.ReLU(),
        nn.Conv2d(32, 64, 3, stride=1, padding=1),
        nn.ReLU(),
        nn.Conv2d(64, 64, 4, stride=2, padding=1),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(64 * side * side, 512),
        nn.ReLU(),
        nn.Linear(512, 512),
        nn.ReLU(),
        nn.Linear(512, num_classes),
    )


def wk_small_mnist(num_classes: int = 10, in_channels: int = 1) -> nn.Module:
    """``mnist_model``: 28x28 inputs (MNIST, Fashion-MNIST)."""
    return _small(7, num_classes, in_channels)


def wk_large_mnist(num_classes: int = 10, in_channels: int = 1) -> nn.Module:
    """``mnist_model_large``: 28x28 inputs."""
    return _large(7, num_classes, in_channels)


def wk_small_cifar(num_classes: int = 10, in_channels: int = 3) -> nn.Module:
    """``cifar_model``: 32x32 inputs (CIFAR-10; ``svhn_model`` is the same net)."""
    return _small(8, num_classes, in_channels)


def wk_large_cifar(num_classes: int = 10, in_channels: int = 3) -> nn.Module:
    """``cifar_model_large``: 32x32 inputs."""
    return _large(8, num_classes, in_channels)
