"""Tracing networks into bound graphs: every registered architecture reproduces its outputs, and a layer
without a bound rule is one clear error naming it."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from certify_toys import Residual
from torch import nn

from robench.certify import certify, trace_network
from robench.errors import RobenchError
from robench.models import create_model
from robench.models.wrapper import Normalized
from robench.threat import ThreatModel


def _random_running_stats(net: nn.Module) -> nn.Module:
    torch.manual_seed(0)
    for module in net.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.running_mean.uniform_(-0.2, 0.2), module.running_var.uniform_(0.5, 2.0)
    return net.eval()


@pytest.mark.parametrize(
    "arch,kwargs,shape",
    [
        ("small_cnn", {"in_channels": 1, "width": 8}, (1, 8, 8)),
        ("preact_resnet18", {}, (3, 16, 16)),
        ("resnet18", {}, (3, 16, 16)),
        ("wide_resnet", {"depth": 10, "width": 1, "dropout": 0.3}, (3, 16, 16)),
    ],
)
def test_registered_architectures_trace_and_reproduce_their_outputs(arch, kwargs, shape):
    torch.manual_seed(0)
    net = _random_running_stats(create_model(arch, num_classes=10, **kwargs))
    model = Normalized(net, [0.5] * shape[0], [0.25] * shape[0]).eval()
    x = torch.rand(3, *shape)
    graph = trace_network(model, x)
    with torch.no_grad():
        assert torch.allclose(graph.evaluate(x), model(x), atol=1e-5)
    assert graph.nodes[1].label == "operation 'sub' (sub)"  # normalisation is part of the bounded function
    kinds = {n.kind for n in graph.nodes}
    assert "relu" in kinds and ("add" in kinds) == (arch != "small_cnn")


def test_functional_ops_views_and_residuals_trace():
    model = Residual()
    x = torch.rand(4, 1, 4, 4)
    graph = trace_network(model, x)
    assert [n.kind for n in graph.nodes].count("add") == 1
    with torch.no_grad():
        assert torch.allclose(graph.evaluate(x), model(x), atol=1e-6)


class Pools(nn.Module):
    """Functional average and max pooling with padding, overlapping windows and ceil mode."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(1)
        self.conv = nn.Conv2d(1, 2, 3, padding=1)
        self.fc = nn.Linear(2 * 3 * 3, 3)

    def forward(self, x):
        h = F.relu(self.conv(x * 2.0 - 1.0))  # 7x7
        h = F.avg_pool2d(h, 3, stride=2, padding=1, count_include_pad=False)  # 4x4
        h = F.max_pool2d(h, 3, stride=2, padding=1, ceil_mode=True)  # 3x3 (overlapping windows)
        return self.fc(torch.flatten(h, 1))


def test_pooling_traces_and_its_bounds_hold_sampled_outputs():
    model = Pools().eval()
    x = torch.rand(3, 1, 7, 7)
    graph = trace_network(model, x)
    with torch.no_grad():
        assert torch.allclose(graph.evaluate(x), model(x), atol=1e-6)
        y = model(x).argmax(1)
    threat = ThreatModel("linf", 0.05)
    noise = torch.rand((3, 500, 1, 7, 7), generator=torch.Generator().manual_seed(0)) * 2 - 1
    samples = (x.unsqueeze(1) + threat.eps * noise.sign() * noise.abs().sqrt()).clamp(0, 1)
    with torch.no_grad():
        z = model(samples.flatten(0, 1)).view(3, 500, 3).double()
    true = z.gather(2, y.view(3, 1, 1).expand(3, 500, 1)).squeeze(2)
    other = z.scatter(2, y.view(3, 1, 1).expand(3, 500, 1), -torch.inf).amax(2)
    for method in ("ibp", "crown-ibp", "crown"):
        bound = certify(model, x, y, threat, method=method).margin_lower_bound
        assert bool((bound.unsqueeze(1) <= true - other + 1e-6).all())


class MeanPooled(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(2)
        self.conv, self.fc = nn.Conv2d(1, 4, 3), nn.Linear(4, 3)

    def forward(self, x):
        return self.fc(F.relu(self.conv(x)).mean((2, 3)))  # global average pooling written as a mean


def test_global_mean_pooling_traces_as_an_average():
    model = MeanPooled().eval()
    x = torch.rand(2, 1, 6, 6)
    graph = trace_network(model, x)
    assert [n.kind for n in graph.nodes] == ["input", "affine", "relu", "affine", "affine"]
    with torch.no_grad():
        assert torch.allclose(graph.evaluate(x), model(x), atol=1e-6)


def test_an_unsupported_layer_is_named_in_one_sentence():
    model = Normalized(
        nn.Sequential(nn.Flatten(), nn.Linear(16, 4), nn.SiLU(), nn.Linear(4, 2)), [0.0], [1.0]
    )
    with pytest.raises(RobenchError) as error:
        certify(
            model.eval(), torch.rand(2, 1, 4, 4), torch.zeros(2, dtype=torch.long), ThreatModel("linf", 0.1)
        )
    message = str(error.value)
    assert message.startswith(
        "cannot certify: layer 'net.2' (SiLU) has no bound rule; certify supports Linear"
    )
    assert "\n" not in message


class Sigmoid(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 2)

    def forward(self, x):
        return self.fc(torch.sigmoid(x.flatten(1)))


class Branchy(nn.Module):
    def forward(self, x):
        return x.flatten(1) if x.sum() > 0 else -x.flatten(1)


class FunctionalDropout(nn.Module):
    def forward(self, x):
        return F.dropout(x.flatten(1), 0.5)  # training=True unless said otherwise


class TwoInputs(nn.Module):
    def forward(self, x, scale):
        return x.flatten(1) * scale


@pytest.mark.parametrize(
    "model,message",
    [
        (Sigmoid(), "operation 'sigmoid' \\(sigmoid\\) has no bound rule"),
        (Branchy(), "torch.fx cannot trace the model"),
        (TwoInputs(), "takes more than one input"),
        (FunctionalDropout(), "\\(dropout\\) is dropout in train mode"),
        (
            nn.Sequential(nn.Flatten(), nn.BatchNorm1d(4), nn.Linear(4, 2)).train(),
            "'1' \\(BatchNorm1d\\) is in train mode",
        ),
        (
            nn.Sequential(nn.Flatten(), nn.Dropout(0.5), nn.Linear(4, 2)).train(),
            "'1' \\(Dropout\\) is in train mode",
        ),
    ],
)
def test_untraceable_or_unbounded_models_are_refused(model, message):
    with pytest.raises(RobenchError, match=message):
        trace_network(model, torch.rand(2, 1, 2, 2))


def test_batch_mixing_is_refused():
    class Mixer(nn.Module):
        def forward(self, x):
            return x.flatten(1) - x.flatten(1).mean(0, keepdim=True)

    with pytest.raises(RobenchError, match="cannot certify"):
        trace_network(Mixer(), torch.rand(2, 1, 2, 2))
