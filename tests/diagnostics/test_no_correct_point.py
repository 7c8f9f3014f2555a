"""A model that gets every point wrong: the suite and every check run on nothing, without crashing."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from robench.pipeline.evaluate import evaluate
from robench.threat import ThreatModel


class AlwaysZero(nn.Module):
    """Predicts class 0 everywhere (through a real layer, so gradients exist); ``noise`` adds dropout."""

    def __init__(self, noise: bool = False) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.ones(1))
        self.noise = noise

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits = torch.zeros(x.shape[0], 10, device=x.device)
        logits[:, 0] = 5.0
        if self.noise:  # random but never enough to change the class
            logits = logits + 0.1 * torch.rand_like(logits)
        return logits + 0 * self.scale * x.flatten(1).sum(1, keepdim=True)


@pytest.mark.parametrize("noise", [False, True], ids=["deterministic", "randomised"])
def test_every_point_wrong_gives_zero_and_no_crash(digits_test, noise):
    data = digits_test.take((digits_test.labels != 0).nonzero().flatten()[:24])
    result = evaluate(AlwaysZero(noise), data, ThreatModel("linf", 0.1), suite=["fgsm", "pgd-7"], n=24)
    assert result.clean_acc == 0.0 and result.robust_acc == 0.0
    assert all(stage.attacked == 0 for stage in result.stages if stage.attack != "diagnostics")
    codes = {flag.code for flag in result.flags}
    assert ("randomized_model" in codes) == noise
    # a trained classifier guessing on clean inputs: the data do not match it (labels, normalisation)
    assert {(f.code, f.severity) for f in result.flags} >= {("chance_level", "error")}
    assert result.verdict == "unreliable"
