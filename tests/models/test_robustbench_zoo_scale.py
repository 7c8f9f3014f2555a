"""`fast` and `standard` end to end on RobustBench zoo models at full size (a CIFAR-10 WideResNet-28-10
and an ImageNet ResNet-50) with random weights, loaded by name from RobustBench's file layout, on points
labelled with the model's own predictions (every point starts correct) and found near its decision
boundary (by bisection between two images the model classifies differently), so that the cascade's first
stages break them within the eps ball and the test stays cheap; every break is verified by the engine."""

from __future__ import annotations

import resource
import warnings

import numpy as np
import pytest
import torch
from robustbench_files import needs_robustbench, write_entry

pytestmark = [needs_robustbench, pytest.mark.slow]

GIB = 2**30


def near_boundary(model, side: int, seed: int, steps: int = 12) -> torch.Tensor:
    """A [0, 1] image within 2^-steps of the model's decision boundary: bisection on the segment from a
    random image to one of the runner-up class, reached by unbounded signed-gradient steps toward that
    class (a random network gives every random image the same class)."""
    a = torch.rand(1, 3, side, side, generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        label, target = model(a).topk(2, dim=1).indices[0]
    b = a.clone()
    for _ in range(60):
        b.requires_grad_(True)
        loss = torch.nn.functional.cross_entropy(model(b), target[None])
        (grad,) = torch.autograd.grad(loss, b)
        b = (b.detach() - 0.05 * grad.sign()).clamp(0, 1)
        with torch.no_grad():
            if model(b).argmax(1) != label:
                break
    low, high = 0.0, 1.0
    with torch.no_grad():
        assert model(b).argmax(1) != label
        for _ in range(steps):
            middle = (low + high) / 2
            low, high = (middle, high) if model(a + middle * (b - a)).argmax(1) == label else (low, middle)
    return (a + low * (b - a))[0]


@pytest.mark.parametrize(
    "zoo_id, side, eps",
    [
        ("robustbench:cifar10/Linf/Standard", 32, 8 / 255),  # WideResNet-28-10
        ("robustbench:imagenet/Linf/Salman2020Do_R50", 224, 4 / 255),  # ResNet-50
    ],
)
def test_fast_and_standard_on_zoo_models(zoo_id, side, eps, tmp_path):
    import robench
    from robench.models.robustbench.entries import find_entry

    entry = find_entry(zoo_id)
    (path,) = write_entry(entry, tmp_path / "models", seed=11)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the loader's note on ImageNet's non-strict load
        loaded = robench.load_model(zoo_id, model_dir=tmp_path / "models")
    x = torch.stack([near_boundary(loaded.module, side, seed) for seed in (1, 2)])
    with torch.no_grad():
        labels = loaded.module(x).argmax(1)
    data = tmp_path / "points.npz"
    np.savez(data, x=x.numpy(), y=labels.numpy())
    options = {"dataset": f"file:{data}", "model_dir": tmp_path / "models", "seed": 0}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fast = robench.evaluate(zoo_id, suite="fast", diagnostics=side == 32, **options)
        standard = robench.evaluate(zoo_id, suite="standard", diagnostics=False, **options)
    for result in (fast, standard):
        assert result.model == zoo_id and result.checkpoint_sha256 == loaded.sha256
        assert result.threat == "linf" and result.eps == pytest.approx(eps, abs=1e-12)  # from the entry
        assert result.model_info.robustbench["entry"] == zoo_id
        assert result.model_info.robustbench["files"] == {path.name: loaded.sha256}
        assert result.clean_acc == 1.0  # the evaluated module is the loaded one
        assert result.n == 2 and 1 <= result.batch_size <= 2
        assert sum(s.broken for s in result.stages) == round(2 * (1 - result.robust_acc))
    assert [s.attack for s in standard.stages][-1] == "autoattack"
    assert standard.verdict == "unchecked" and (fast.verdict != "unchecked") == (side == 32)
    assert fast.robust_acc == standard.robust_acc == 0.0  # boundary points: broken, and verified
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 < 24 * GIB
