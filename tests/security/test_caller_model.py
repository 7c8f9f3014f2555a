"""The caller's model is left as it was: ``robench.evaluate``, ``robench.certify``, the gate and the pytest
plugin's ``check(model)`` put every submodule's train/eval mode and every parameter's ``requires_grad``
back, also when the evaluation fails or is interrupted, and the model then trains normally."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import robench
from robench.cli.pytest_plugin import RobustnessGate

RUN = {"threat": "linf", "eps": 0.3, "n": 8, "suite": ["fgsm"]}


def _net() -> nn.Module:
    """Train mode, but its dropout in eval mode and the first layer's bias frozen: all to be kept."""
    torch.manual_seed(0)
    net = nn.Sequential(nn.Flatten(), nn.Linear(64, 32), nn.ReLU(), nn.Dropout(0.2), nn.Linear(32, 10))
    net.train()
    net[3].eval()
    net[1].bias.requires_grad_(False)
    return net


def _state(net: nn.Module) -> tuple[list[bool], list[bool]]:
    return [m.training for m in net.modules()], [p.requires_grad for p in net.parameters()]


SWITCHED = (
    r"the model was in train mode \(5 of 6 modules training, 3 parameters requiring gradients\); robench "
    "evaluates it in eval mode with parameter gradients off and puts both back when it returns"
)


def test_a_model_evaluated_in_train_mode_is_put_back_and_trains_afterwards(digits_test, digits_train):
    net = _net()
    before = _state(net)
    with pytest.warns(UserWarning, match=SWITCHED):
        result = robench.evaluate(net, digits_test, diagnostics=False, **RUN)
    assert result.n == 8 and _state(net) == before
    optimizer = torch.optim.SGD([p for p in net.parameters() if p.requires_grad], lr=0.5)
    x, y = digits_train.images[:256], digits_train.labels[:256]
    losses = []
    for _ in range(15):
        loss = nn.functional.cross_entropy(net(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.8 * losses[0]  # 2.33 -> 1.67 in 15 steps
    assert all(p.grad is not None for p in (net[1].weight, net[4].weight, net[4].bias))
    assert net[1].bias.grad is None  # still frozen


def test_the_diagnostics_and_certify_put_the_model_back_too(digits_test):
    net = _net()
    before = _state(net)
    with pytest.warns(UserWarning, match="train mode"):
        robench.evaluate(net, digits_test, diagnostics=True, **{**RUN, "n": 4})
    assert _state(net) == before
    from robench.pipeline.certify import certify

    with pytest.warns(UserWarning, match="train mode"):
        record = certify(net, digits_test, "linf", eps=0.3, n=4, methods="ibp")
    assert record.n == 4 and _state(net) == before


def test_the_gate_and_the_pytest_plugin_put_the_model_back(digits_test, tmp_path):
    net = _net()
    before = _state(net)
    options = {**RUN, "dataset": digits_test, "diagnostics": False, "min_clean": 0.0}
    with pytest.warns(UserWarning, match="train mode"):
        report = RobustnessGate().check(net, store=tmp_path / "s.sqlite", **options)
    assert report.passed and _state(net) == before
    from robench.pipeline.gate import check_model

    with pytest.warns(UserWarning, match="train mode"):
        check_model(net, store=tmp_path / "s.sqlite", **options)
    assert _state(net) == before


@pytest.mark.parametrize("error", [KeyboardInterrupt, RuntimeError])
def test_an_interrupted_or_failed_evaluation_puts_the_model_back(digits_test, monkeypatch, error):
    from robench.engine.evaluation import Evaluation

    def interrupted(self, *args, **kwargs):
        assert not any(m.training for m in net.modules())  # robench did switch it while running
        raise error("stopped mid-evaluation")

    monkeypatch.setattr(Evaluation, "run", interrupted)
    net = _net()
    before = _state(net)
    with pytest.warns(UserWarning, match="train mode"), pytest.raises(error, match="mid-evaluation"):
        robench.evaluate(net, digits_test, diagnostics=False, **RUN)
    assert _state(net) == before
