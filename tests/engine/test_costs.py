"""Pass counting at the model: known numbers for scripted work."""

from __future__ import annotations

import torch
from engine_toys import THREAT, GradientSteps, ToyModel, toy_dataset

from robench.core.counting import CountingModel, PassCount
from robench.engine.evaluate import evaluate


def test_counting_model_counts_samples_forward_and_backward():
    counted = CountingModel(ToyModel())
    x = torch.rand(5, 1, 2, 2, requires_grad=True)
    with counted.stage("a"):
        counted(x).sum().backward()
        with torch.no_grad():
            counted(x[:3])
    with counted.stage("b"):
        loss = counted(x[:2]).sum()
        torch.autograd.grad(loss, x)
    assert counted.stages == {"a": PassCount(8, 5), "b": PassCount(2, 2)}
    assert counted.count() == PassCount(10, 7)


def test_counting_model_notices_a_broken_gradient_graph():
    class Detaching(ToyModel):
        def forward(self, x):
            with torch.no_grad():
                return super().forward(x)

    counted = CountingModel(Detaching())
    counted(torch.rand(2, 1, 2, 2, requires_grad=True))
    assert counted.broken_graph_calls == 1 and counted.backward_samples == 0


def test_stage_costs_equal_the_scripted_number_of_passes():
    data = toy_dataset(20)  # 18 clean-correct points
    for batch_size in (7, 64):
        result = evaluate(
            ToyModel(),
            data,
            THREAT,
            suite=[GradientSteps(THREAT, "steps", 3)],
            batch_size=batch_size,
            diagnostics=False,
        )
        stage = result.stages[0]
        assert (stage.attacked, stage.broken) == (18, 18)
        # 3 steps of forward+backward per point, plus the verification forward of each output
        assert (stage.forward, stage.backward) == (3 * 18 + 18, 3 * 18)
        # clean pass: one forward and one gradient probe per point
        assert result.extra["clean_cost"]["forward"] == 20 and result.extra["clean_cost"]["backward"] == 20
        assert result.extra["total_cost"]["forward"] == 20 + 72
