"""Reference forwards of the public codebases' networks, written with torch.nn.functional only.

Each function follows its codebase's forward line by line (locuslab/robust_overfitting and
locuslab/fast_adversarial ``preact_resnet.py``, RobustBench ``resnet.py`` / ``wide_resnet.py`` /
``dm_wide_resnet.py``, yaodongyu/TRADES ``wideresnet.py``, deepmind-research ``model_zoo.py``,
pytorch-cifar / MadryLab/robustness ``resnet.py``), including the authors' fixed-size pooling and
in-forward normalisation. It never touches robench's modules: the parameters are created by the first
forward through ``Params`` (seeded random weights, random BatchNorm statistics) under the codebase's own
key names, so the resulting state dict is what that codebase would save. A known-answer test loads that
state dict into robench and compares robench's logits with these.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


class Params:
    """Seeded random tensors by key, created on first use with the shape the forward asks for."""

    def __init__(self, seed: int) -> None:
        self.generator = torch.Generator().manual_seed(seed)
        self.state: dict[str, torch.Tensor] = {}

    def _new(self, shape: tuple[int, ...], scale: float = 1.0, low: float | None = None) -> torch.Tensor:
        if low is not None:  # uniform in [low, low + 1)
            return low + torch.rand(shape, generator=self.generator)
        return scale * torch.randn(shape, generator=self.generator)

    def get(self, key: str, shape: tuple[int, ...], **kind) -> torch.Tensor:
        if key not in self.state:
            self.state[key] = self._new(shape, **kind)
        assert tuple(self.state[key].shape) == shape, (key, self.state[key].shape, shape)
        return self.state[key].float()

    def conv(self, x: torch.Tensor, key: str, out: int, k: int, stride: int = 1, padding: int = 0):
        fan_in = x.shape[1] * k * k
        weight = self.get(f"{key}.weight", (out, x.shape[1], k, k), scale=(1.5 / fan_in) ** 0.5)
        return F.conv2d(x, weight, stride=stride, padding=padding)

    def bn(self, x: torch.Tensor, key: str) -> torch.Tensor:
        c = (x.shape[1],)
        weight = self.get(f"{key}.weight", c, low=0.5)
        bias = self.get(f"{key}.bias", c, scale=0.1)
        mean = self.get(f"{key}.running_mean", c, scale=0.2)
        var = self.get(f"{key}.running_var", c, low=0.5)
        self.state.setdefault(f"{key}.num_batches_tracked", torch.tensor(7))
        return F.batch_norm(x, mean, var, weight, bias, training=False, momentum=0.0, eps=1e-5)

    def linear(self, x: torch.Tensor, key: str, out: int, bias: bool = True) -> torch.Tensor:
        weight = self.get(f"{key}.weight", (out, x.shape[1]), scale=x.shape[1] ** -0.5)
        return F.linear(x, weight, self.get(f"{key}.bias", (out,), scale=0.1) if bias else None)


def swish(x: torch.Tensor) -> torch.Tensor:
    return x * torch.sigmoid(x)  # DeepMind's _Swish forward


def preact_resnet18(p: Params, x: torch.Tensor, *, shortcut_from: str, final_bn: bool, classes: int = 10):
    """robust_overfitting (shortcut_from='activation'), fast_adversarial ('input'); RobustBench's
    PreActResNet(bn_before_fc=final_bn): no final BN means no final ReLU either."""
    out, in_planes = p.conv(x, "conv1", 64, 3, padding=1), 64
    for stage, planes in enumerate((64, 128, 256, 512)):
        for i in range(2):
            stride, key = (2 if stage > 0 and i == 0 else 1), f"layer{stage + 1}.{i}"
            pre = F.relu(p.bn(out, f"{key}.bn1"))
            shortcut = out
            if stride != 1 or in_planes != planes:
                source = pre if shortcut_from == "activation" else out
                shortcut = p.conv(source, f"{key}.shortcut.0", planes, 1, stride=stride)
            h = p.conv(pre, f"{key}.conv1", planes, 3, stride, 1)
            h = p.conv(F.relu(p.bn(h, f"{key}.bn2")), f"{key}.conv2", planes, 3, 1, 1)
            out, in_planes = h + shortcut, planes
    if final_bn:
        out = F.relu(p.bn(out, "bn"))
    out = F.avg_pool2d(out, 4)
    return p.linear(out.view(out.size(0), -1), "linear", classes)


def wrn_group(p: Params, x: torch.Tensor, key: str, count: int, planes: int, stride: int) -> torch.Tensor:
    """TRADES / robust_overfitting NetworkBlock of BasicBlocks (equalInOut decides the shortcut)."""
    for i in range(count):
        block, s = f"{key}.layer.{i}", stride if i == 0 else 1
        if x.shape[1] == planes:
            out = F.relu(p.bn(x, f"{block}.bn1"))
            h = F.relu(p.bn(p.conv(out, f"{block}.conv1", planes, 3, s, 1), f"{block}.bn2"))
            x = x + p.conv(h, f"{block}.conv2", planes, 3, 1, 1)
        else:
            x = F.relu(p.bn(x, f"{block}.bn1"))
            h = F.relu(p.bn(p.conv(x, f"{block}.conv1", planes, 3, s, 1), f"{block}.bn2"))
            x = p.conv(x, f"{block}.convShortcut", planes, 1, s) + p.conv(
                h, f"{block}.conv2", planes, 3, 1, 1
            )
    return x


def wide_resnet(p: Params, x: torch.Tensor, *, depth: int, width: int, classes: int = 10, sub_block1=False):
    """TRADES WideResNet; ``sub_block1`` creates the extra block's weights (forward never uses them)."""
    count, channels = (depth - 4) // 6, (16, 16 * width, 32 * width, 64 * width)
    out = p.conv(x, "conv1", channels[0], 3, 1, 1)
    if sub_block1:
        wrn_group(p, out, "sub_block1", count, channels[1], 1)  # weights only: the result is discarded
    out = wrn_group(p, out, "block1", count, channels[1], 1)
    out = wrn_group(p, out, "block2", count, channels[2], 2)
    out = wrn_group(p, out, "block3", count, channels[3], 2)
    out = F.avg_pool2d(F.relu(p.bn(out, "bn1")), 8)
    return p.linear(out.view(-1, channels[3]), "fc", classes)


def _same(x: torch.Tensor, stride: int) -> torch.Tensor:
    return F.pad(x, (1, 1, 1, 1)) if stride == 1 else F.pad(x, (0, 1, 0, 1))


def dm_wide_resnet(p: Params, x: torch.Tensor, *, depth: int, width: int, act, mean, std, classes: int = 10):
    """deepmind-research WideResNet, its normalisation inside forward."""
    count, channels = (depth - 4) // 6, (16, 16 * width, 32 * width, 64 * width)
    out = (x - torch.tensor(mean).view(3, 1, 1)) / torch.tensor(std).view(3, 1, 1)
    out = p.conv(out, "init_conv", channels[0], 3, 1, 1)
    for g, (planes, stride) in enumerate(zip(channels[1:], (1, 2, 2), strict=True)):
        for i in range(count):
            key, s = f"layer.{g}.block.{i}", stride if i == 0 else 1
            has_shortcut = out.shape[1] != planes
            if has_shortcut:
                out = act(p.bn(out, f"{key}.batchnorm_0"))
                v = out
            else:
                v = act(p.bn(out, f"{key}.batchnorm_0"))
            h = p.conv(_same(v, s), f"{key}.conv_0", planes, 3, s, 0)
            h = p.conv(act(p.bn(h, f"{key}.batchnorm_1")), f"{key}.conv_1", planes, 3, 1, 1)
            out = (p.conv(out, f"{key}.shortcut", planes, 1, s) if has_shortcut else out) + h
    out = F.avg_pool2d(act(p.bn(out, "batchnorm")), 8)
    return p.linear(out.view(-1, channels[3]), "logits", classes)


def dm_preact_resnet18(p: Params, x: torch.Tensor, *, act, mean, std, classes: int = 10):
    """deepmind-research PreActResNet-18: 3x3 shortcut from the un-activated input, 'SAME' padding."""
    out = (x - torch.tensor(mean).view(3, 1, 1)) / torch.tensor(std).view(3, 1, 1)
    out = p.conv(out, "conv_2d", 64, 3, 1, 1)
    for stage, planes in enumerate((64, 128, 256, 512)):
        for i in range(2):
            key, s = f"layer_{stage}.{i}", (2 if stage > 0 and i == 0 else 1)
            pre = act(p.bn(out, f"{key}.batchnorm_0"))
            has_shortcut = s != 1 or out.shape[1] != planes
            shortcut = p.conv(_same(out, s), f"{key}.shortcut", planes, 3, s, 0) if has_shortcut else out
            h = p.conv(_same(pre, s), f"{key}.conv_2d_1", planes, 3, s, 0)
            out = p.conv(act(p.bn(h, f"{key}.batchnorm_1")), f"{key}.conv_2d_2", planes, 3, 1, 1) + shortcut
    out = F.avg_pool2d(act(p.bn(out, "batchnorm")), 4)
    return p.linear(out.view(out.size(0), -1), "logits", classes)


def cifar_resnet(p: Params, x: torch.Tensor, *, bottleneck: bool, classes: int = 10):
    """pytorch-cifar / RobustBench / MadryLab/robustness cifar_models ResNet-18 (BasicBlock) or -50."""
    blocks, expansion = ((3, 4, 6, 3), 4) if bottleneck else ((2, 2, 2, 2), 1)
    out, in_planes = F.relu(p.bn(p.conv(x, "conv1", 64, 3, 1, 1), "bn1")), 64
    for stage, count in enumerate(blocks):
        planes = 64 * 2**stage
        for i in range(count):
            key, s = f"layer{stage + 1}.{i}", (2 if stage > 0 and i == 0 else 1)
            if bottleneck:
                h = F.relu(p.bn(p.conv(out, f"{key}.conv1", planes, 1), f"{key}.bn1"))
                h = F.relu(p.bn(p.conv(h, f"{key}.conv2", planes, 3, s, 1), f"{key}.bn2"))
                h = p.bn(p.conv(h, f"{key}.conv3", planes * 4, 1), f"{key}.bn3")
            else:
                h = F.relu(p.bn(p.conv(out, f"{key}.conv1", planes, 3, s, 1), f"{key}.bn1"))
                h = p.bn(p.conv(h, f"{key}.conv2", planes, 3, 1, 1), f"{key}.bn2")
            shortcut = out
            if s != 1 or in_planes != planes * expansion:
                shortcut = p.bn(
                    p.conv(out, f"{key}.shortcut.0", planes * expansion, 1, s), f"{key}.shortcut.1"
                )
            out, in_planes = F.relu(h + shortcut), planes * expansion
    out = F.avg_pool2d(out, 4)
    return p.linear(out.view(out.size(0), -1), "linear", classes)
