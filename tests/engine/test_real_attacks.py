"""The engine with the real attacks on real digits: batch-size independence and the analytic worst case."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from robench.data import load_dataset
from robench.pipeline.evaluate import evaluate
from robench.threat import ThreatModel


@pytest.fixture(scope="module")
def linear_digits():
    """Softmax regression on digits (full-batch gradient descent, a fraction of a second)."""
    torch.manual_seed(0)
    train = load_dataset("digits", split="train")
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 10))
    optimizer = torch.optim.Adam(model.parameters(), 0.1)
    for _ in range(40):
        loss = nn.functional.cross_entropy(model(train.images), train.labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model.eval(), load_dataset("digits")


def _decisions(result):
    return [(s.index, s.robust, s.broken_by) for s in result.samples], [
        (s.attacked, s.broken, s.cost.forward, s.cost.backward) for s in result.stages
    ]


def test_real_suite_gives_identical_results_for_batch_sizes_7_and_64(linear_digits):
    model, data = linear_digits
    threat = ThreatModel("linf", 0.08)
    runs = [
        evaluate(
            model,
            data,
            threat,
            suite=["fgsm-rs", "pgd-7", "pgd-10x2"],
            n=80,
            seed=5,
            batch_size=b,
            diagnostics=False,
        )
        for b in (7, 64)
    ]
    assert _decisions(runs[0]) == _decisions(runs[1])
    assert runs[0].clean_acc > 0.85 and 0 < runs[0].robust_acc < runs[0].clean_acc


def test_linf_pgd_reaches_the_analytic_worst_case_of_a_binary_linear_model():
    """For f(x) = w.x + b the Linf worst case moves the margin by eps * ||w||_1 (inside [0,1]: clipped)."""
    torch.manual_seed(1)
    w = torch.randn(64)
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 2)).eval()
    with torch.no_grad():
        model[1].weight.copy_(torch.stack([-w / 2, w / 2]))
        model[1].bias.zero_()
    data = load_dataset("digits")
    x = data.images.flatten(1)
    labels = (x @ w < 0).long()  # the model is right everywhere; margin = |w.x|
    data = type(data)(**{**data.__dict__, "labels": labels, "num_classes": 2})
    eps = 0.05
    # best achievable margin change inside the ball and the box, per point
    sign = torch.where(labels == 1, -1.0, 1.0)  # direction that hurts: lower w.x for label 1, raise it for 0
    step = (sign[:, None] * w.sign()[None]) * eps
    moved = (x + step).clamp(0, 1)
    worst = (moved @ w) * torch.where(labels == 1, 1.0, -1.0)
    expected_robust = (worst > 0).float().mean().item()
    result = evaluate(model, data, ThreatModel("linf", eps), suite=["pgd-20"], diagnostics=False)
    assert result.robust_acc == pytest.approx(expected_robust, abs=1 / len(labels))
