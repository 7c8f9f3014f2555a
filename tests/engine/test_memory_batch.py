"""The automatic batch size bounded by free memory (robench.engine.memory), with fake free-memory figures."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from robench.engine import memory
from robench.engine.memory import batch_from_memory, memory_batch_size, per_sample_bytes

MIB, GIB = 2**20, 2**30


def conv_net(width: int) -> nn.Module:
    net = nn.Sequential(
        nn.Conv2d(3, width, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(width, width, 3, padding=1),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(width, 10),
    )
    for p in net.parameters():
        p.requires_grad_(False)
    return net.eval()


def test_batch_from_memory():
    assert batch_from_memory(100 * MIB, 10 * GIB, 512) == 51  # half of 10 GiB at 100 MiB per point
    assert batch_from_memory(1 * MIB, 10 * GIB, 512) == 512  # the heuristic's cap stays
    assert batch_from_memory(100 * GIB, 10 * GIB, 512) == 1  # never below one point


def test_cuda_path_uses_the_free_memory(monkeypatch):
    """A WideResNet-70-16-like 150 MiB per point on a GPU with 24 GiB free: 81 points, not 2,048."""
    monkeypatch.setattr(memory, "per_sample_bytes", lambda model, shape, device: 150 * MIB)
    assert memory_batch_size(conv_net(4), (3, 32, 32), "cuda:0", 2048, free=24 * GIB) == 81
    monkeypatch.setattr(memory, "free_bytes", lambda device: 80 * GIB)
    assert memory_batch_size(conv_net(4), (3, 32, 32), "cuda:0", 2048) == 273
    monkeypatch.setattr(memory, "per_sample_bytes", lambda model, shape, device: None)  # not logits
    assert memory_batch_size(conv_net(4), (3, 32, 32), "cuda:0", 2048, free=GIB) == 2048


def test_cpu_probe_only_for_big_networks(monkeypatch):
    net = conv_net(8)
    assert memory_batch_size(net, (3, 32, 32), "cpu", 512, free=MIB) == 512  # 8 KiB of weights: no probe
    monkeypatch.setattr(memory, "CPU_PROBE_FROM", 0)
    per_sample = per_sample_bytes(net, (3, 32, 32), "cpu")
    assert memory_batch_size(net, (3, 32, 32), "cpu", 512, free=int(100 * per_sample)) == 50


def test_cpu_per_sample_bytes_measures_activations():
    """Saved activations grow with the width, per point (weights are not counted), and the caller's random
    generator is left as it was."""
    nets = [conv_net(8), conv_net(32)]
    state = torch.get_rng_state()
    narrow, wide = (per_sample_bytes(net, (3, 16, 16), "cpu") for net in nets)
    assert torch.equal(torch.get_rng_state(), state)
    # ReLU outputs and conv inputs of 16x16 maps, float32: at least the two width-channel maps per point
    assert narrow >= 2 * 8 * 16 * 16 * 4 and wide >= 2 * 32 * 16 * 16 * 4
    assert wide > 3 * narrow


@pytest.mark.parametrize("output", ["tuple", "4d"])
def test_a_model_without_logits_keeps_the_limit(monkeypatch, output):
    class Odd(nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = nn.Parameter(torch.ones(1), requires_grad=False)

        def forward(self, x):
            return (x * self.weight,) if output == "tuple" else x * self.weight

    monkeypatch.setattr(memory, "CPU_PROBE_FROM", 0)
    assert memory_batch_size(Odd(), (3, 8, 8), "cpu", 64, free=MIB) == 64


def test_a_block_that_does_not_fit_is_named():
    """ImageNet ResNet-50 (measured: about 100 MiB per point) with 10 GiB free: AutoAttack's 256-point
    blocks need 25 GiB, 64-point blocks fit."""
    from robench.engine.memory import MemoryPlan

    plan = MemoryPlan(16, per_sample=100 * MIB, free=10 * GIB)
    warning = plan.block_warning(256)
    assert "about 25.0 GiB for this model, more than the 10.0 GiB free" in warning
    assert "--block-size (e.g. 51)" in warning
    assert plan.block_warning(64) is None
    assert MemoryPlan(16).block_warning(256) is None  # nothing measured: nothing said
