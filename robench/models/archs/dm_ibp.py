"""DeepMind's IBP networks (Gowal et al. 2018), small / medium / large, as PyTorch ``nn.Sequential`` stacks.

Layers as deepmind/interval-bound-propagation ``examples/train.py`` ``layers(model_size)`` lists them, with
its final logits layer; ``large`` as CROWN-IBP ports it to PyTorch (huanzhang12/CROWN-IBP
``model_defs_gowal.py`` ``IBP_large``, the "dm-large" of its configs: padding 1 for DeepMind's 'SAME').
``small`` and ``medium`` use DeepMind's 'VALID' convolutions (no padding). The first linear layer's width
depends on the input side (``input_size``: 28 for MNIST, 32 for CIFAR-10). Keys are the positions
(``0.weight``, ``2.weight``, ...); ``nn.Flatten`` has none. Inputs in [0, 1], no normalisation inside.
"""

from __future__ import annotations

from torch import nn

from robench.errors import RobenchError


def _side(size: int, kernel: int, stride: int, padding: int) -> int:
    return (size + 2 * padding - kernel) // stride + 1


def _stack(convs, hidden, num_classes: int, in_channels: int, input_size: int) -> nn.Sequential:
    """Conv(out, kernel, stride, padding)+ReLU for each of ``convs``, Flatten, Linear+ReLU per ``hidden``."""
    if not isinstance(input_size, int) or isinstance(input_size, bool) or not 8 <= input_size <= 256:
        raise RobenchError(f"input_size must be an integer from 8 to 256, got {input_size!r}")
    layers, channels, side = [], in_channels, input_size
    for out, kernel, stride, padding in convs:
        layers += [nn.Conv2d(channels, out, kernel, stride=stride, padding=padding), nn.ReLU()]
        channels, side = out, _side(side, kernel, stride, padding)
    layers.append(nn.Flatten())
    width = channels * side * side
    for size in hidden:
        layers += [nn.Linear(width, size), nn.ReLU()]
        width = size
    layers.append(nn.Linear(width, num_classes))
    return nn.Sequential(*layers)


def ibp_small(num_classes: int = 10, in_channels: int = 1, input_size: int = 28) -> nn.Module:
    """conv16 4x4/2 -> conv32 4x4/1 -> fc100 -> fc (no padding)."""
    return _stack([(16, 4, 2, 0), (32, 4, 1, 0)], [100], num_classes, in_channels, input_size)


def ibp_medium(num_classes: int = 10, in_channels: int = 1, input_size: int = 28) -> nn.Module:
    """conv32 3x3 -> conv32 4x4/2 -> conv64 3x3 -> conv64 4x4/2 -> fc512 -> fc512 -> fc (no padding)."""
    convs = [(32, 3, 1, 0), (32, 4, 2, 0), (64, 3, 1, 0), (64, 4, 2, 0)]
    return _stack(convs, [512, 512], num_classes, in_channels, input_size)


def ibp_large(num_classes: int = 10, in_channels: int = 1, input_size: int = 28) -> nn.Module:
    """conv64 3x3 -> conv64 3x3 -> conv128 3x3/2 -> conv128 3x3 -> conv128 3x3 -> fc512 -> fc (padding 1)."""
    convs = [(64, 3, 1, 1), (64, 3, 1, 1), (128, 3, 2, 1), (128, 3, 1, 1), (128, 3, 1, 1)]
    return _stack(convs, [512], num_classes, in_channels, input_size)
