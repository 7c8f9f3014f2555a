"""IBP against an independent implementation: ART's PyTorchIBPClassifier (art.estimators.certification).

ART converts a model whose top-level children are Conv2d / Linear / ReLU (it infers the flatten between
the last convolution and the first dense layer) and propagates intervals clipped to [0, 1]. On such a
model the logit intervals of both implementations must agree.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from torch import nn

from robench.certify import InputRegion, trace_network
from robench.certify.ibp import interval_bounds
from robench.threat import ThreatModel

art_interval = pytest.importorskip("art.estimators.certification.interval")


class ConvNet(nn.Module):
    """Children in call order (ART hooks them); the flatten happens in forward, as ART expects."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.conv1 = nn.Conv2d(1, 4, 3, padding=1)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(4, 4, 3, stride=2)
        self.relu2 = nn.ReLU()
        self.fc1 = nn.Linear(4 * 3 * 3, 16)
        self.relu3 = nn.ReLU()
        self.fc2 = nn.Linear(16, 5)

    def forward(self, x):
        h = self.relu2(self.conv2(self.relu1(self.conv1(x))))
        return self.fc2(self.relu3(self.fc1(h.flatten(1))))


def test_ibp_logit_intervals_match_art():
    model = ConvNet().eval()
    x = torch.rand(6, 1, 8, 8, generator=torch.Generator().manual_seed(1))
    eps = 0.05
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        art = art_interval.PyTorchIBPClassifier(
            model=model, loss=nn.CrossEntropyLoss(), input_shape=(1, 8, 8), nb_classes=5,
            clip_values=(0.0, 1.0), device_type="cpu",
        )  # fmt: skip
        theirs = art.predict_intervals(x.numpy(), is_interval=False, bounds=eps, limits=[0.0, 1.0])
    graph = trace_network(model, x)
    with torch.no_grad():
        lower, upper = interval_bounds(graph, InputRegion.around(x.double(), ThreatModel("linf", eps)))[-1]
    assert theirs.shape == (6, 2, 5)
    np.testing.assert_allclose(theirs[:, 0], lower.numpy(), atol=2e-5)
    np.testing.assert_allclose(theirs[:, 1], upper.numpy(), atol=2e-5)
    assert float((upper - lower).min()) > 0.01  # the intervals are not trivially thin
