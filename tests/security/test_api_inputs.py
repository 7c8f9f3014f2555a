"""The Python API's edge: a value of the wrong type for ``robench.evaluate``, the gate or the pytest plugin,
and a model whose first forward does not give logits, are one RobenchError sentence each, raised before
any attack runs."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import robench
from robench.cli.pytest_plugin import RobustnessGate
from robench.errors import RobenchError
from robench.pipeline.gate import check_model

RUN = {"threat": "linf", "eps": 0.3, "n": 4, "suite": ["fgsm"], "diagnostics": False}


def _one_sentence(error: pytest.ExceptionInfo) -> str:
    text = str(error.value)
    assert "\n" not in text and type(error.value) is not RuntimeError
    return text


@pytest.mark.parametrize(
    ("options", "said"),
    [
        ({"n": 2.5}, r"^n must be an integer, got 2\.5 \(float\)$"),
        ({"n": "4"}, r"^n must be an integer, got '4' \(str\)$"),
        ({"n": True}, r"^n must be an integer, got True \(bool\)$"),
        ({"seed": "x"}, r"^seed must be an integer, got 'x' \(str\)$"),
        (
            {"seed": 2**64},
            r"seed \(--seed\) must be an integer from 0 to 2\*\*63 - 1, got 18446744073709551616",
        ),
        ({"seed": -1}, r"seed \(--seed\) must be an integer from 0 to 2\*\*63 - 1, got -1$"),
        ({"dataset": object()}, r"^dataset must be a string or an ImageDataset, got a value of type object$"),
        ({"threat": 5}, r"^threat must be a string or a ThreatModel, got 5 \(int\)$"),
        ({"batch_size": "64"}, r"^batch_size must be an integer, got '64' \(str\)$"),
        ({"diagnostics": "no"}, r"^diagnostics must be true or false, got 'no' \(str\)$"),
    ],
)
def test_a_wrong_type_at_the_python_api_is_one_sentence(tiny_digits_model, digits_test, options, said):
    args = {"dataset": digits_test, **RUN, **options}
    with pytest.raises(RobenchError, match=said) as error:
        robench.evaluate(tiny_digits_model, **args)
    _one_sentence(error)
    with pytest.raises(RobenchError, match=said):
        check_model(tiny_digits_model, **args)


def test_the_gates_thresholds_and_the_plugin_check_their_types_too(tiny_digits_model, digits_test):
    with pytest.raises(RobenchError, match=r"^min_robust must be a number, got '0.5' \(str\)$"):
        check_model(tiny_digits_model, dataset=digits_test, min_robust="0.5", **RUN)
    with pytest.raises(pytest.fail.Exception, match="robench gate could not run: n must be an integer"):
        RobustnessGate().check(tiny_digits_model, dataset=digits_test, **{**RUN, "n": 2.5})


class Answers(nn.Module):
    """A model whose forward gives ``answer(logits)`` instead of the logits."""

    def __init__(self, answer):
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(64, 10))
        self.answer = answer

    def forward(self, x):
        return self.answer(self.net(x))


OUTPUTS = {
    "a tuple": (lambda z: (z, z.detach()), r"^the model returns a tuple for a batch of images, not a tensor"),
    "a dict": (lambda z: {"logits": z}, r"^the model returns a dict for a batch of images, not a tensor"),
    "a 1-D tensor": (
        lambda z: z[:, 0],
        r"returns a tensor of shape \(4,\) for 4 images, not logits of shape",
    ),
    "a scalar": (lambda z: z.sum(), r"returns a tensor of shape \(\) for 4 images"),
    "too many rows": (lambda z: torch.cat([z, z]), r"returns a tensor of shape \(8, 10\) for 4 images"),
    "integer outputs": (lambda z: z.argmax(1, keepdim=True).repeat(1, 10), r"returns torch.int64 outputs"),
    "too few logits": (lambda z: z[:, :3], r"returns 3 logits per image but the labels need at least \d+"),
}


@pytest.mark.parametrize("kind", OUTPUTS)
def test_a_model_that_does_not_return_logits_is_one_sentence_before_any_attack(
    kind, digits_test, monkeypatch
):
    from robench.engine.runner import RunContext

    def no_attack(*args, **kwargs):
        raise AssertionError("an attack stage started")

    monkeypatch.setattr(RunContext, "__init__", no_attack)
    answer, said = OUTPUTS[kind]
    with pytest.raises(RobenchError, match=said) as error:
        robench.evaluate(Answers(answer).eval(), digits_test, **RUN)
    _one_sentence(error)


def test_a_float64_model_is_one_sentence(digits_test):
    net = nn.Sequential(nn.Flatten(), nn.Linear(64, 10)).double().eval()
    with pytest.raises(
        RobenchError, match=r"parameters are torch.float64 .* convert it with model.float\(\)"
    ):
        robench.evaluate(net, digits_test, **RUN)
    assert next(net.parameters()).dtype == torch.float64  # left as it was
