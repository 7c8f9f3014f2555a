"""Pass counting at the model: known numbers for scripted work."""

from __future__ import annotations

import torch
from engine_toys import THREAT, GradientSteps, ToyModel, toy_dataset

from robench.core.cost import Cost
from robench.core.counting import CountingModel
from robench.pipeline.evaluate import evaluate


def test_counting_model_counts_samples_forward_and_backward():
    counted = CountingModel(ToyModel())
    x = torch.rand(5, 1, 2, 2, requires_grad=True)
    with counted.measure() as a:
        counted(x).sum().backward()
        with torch.no_grad():
            counted(x[:3])
    with counted.measure() as b:
        loss = counted(x[:2]).sum()
        torch.autograd.grad(loss, x)
    assert (a.forward, a.backward, b.forward, b.backward) == (8, 5, 2, 2)
    assert a.seconds > 0 and counted.count() == Cost(10, 7)
    assert (a + b).weighted == 10 + 2 * 7 and (a + b).passes == 17


def test_a_measured_block_that_raises_still_records_its_cost():
    counted = CountingModel(ToyModel())
    try:
        with counted.measure() as cost:
            counted(torch.rand(3, 1, 2, 2))
            raise KeyError("stop")
    except KeyError:
        pass
    assert (cost.forward, cost.backward) == (3, 0)


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
        assert (stage.cost.forward, stage.cost.backward) == (3 * 18 + 18, 3 * 18)
        # clean pass: one forward and one gradient probe per point
        assert result.clean_cost.forward == 20 and result.clean_cost.backward == 20
        probe = result.probe.forward  # the randomness probe: 5 forwards of up to 64 points
        assert probe == 5 * 20 and result.total_cost.forward == 20 + 72 + probe
