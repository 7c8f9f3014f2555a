"""Every registered 32x32 layout end to end at CIFAR scale on CPU: fgsm, pgd-20 and autoattack on two
random 32x32 image, random weights, each attack on every point, every output verified.

The full-size WideResNets (wrn_28_10, wrn_34_10_trades, dm_wrn_70_16, ...) run the same code as their
generic, here at small settings (test_architectures checks that each is its generic with those settings);
their full-size cost is measured by benchmarks/cifar_scale.py. The generics preact_resnet and
dm_preact_resnet run here as their named settings (preact_resnet18_rice / _wong / _wong_nobn,
dm_preact_resnet18), and the family name preact_resnet18 builds preact_resnet18_rice.
"""

from __future__ import annotations

import warnings

import pytest
import torch

from robench.models.layouts import LAYOUTS
from robench.models.loading import load_model

SMALL = {
    "wide_resnet": {"depth": 10, "width": 2},
    "wide_resnet_trades": {"depth": 10, "width": 2},
    "dm_wide_resnet": {"depth": 10, "width": 2, "activation": "swish"},
}
# run as their named settings: the full-size WideResNets at small settings of their generic, and the
# two full-size generics whose code the named layouts run (preact_resnet18_*, dm_preact_resnet18)
COVERED = ("wide_resnet", "wide_resnet_trades", "dm_wide_resnet")
SAME_CODE = ("preact_resnet", "dm_preact_resnet")
ARCHS = [
    e.name
    for e in LAYOUTS
    if e.input_size == 32 and not e.is_family and e.generic not in COVERED and e.name not in SAME_CODE
]
N = 1  # one image: AutoAttack's APGD runs all its iterations whatever happens, so cost is per point


class CifarLike:
    name, mean, std = "cifar10", (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)


def _random_model(arch: str, classes: int = 10, options=None) -> torch.nn.Module:
    """Random weights; BatchNorm statistics measured on random images (so the output depends on x)."""
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a random network: no normalisation to speak of
        module = load_model(arch=arch, num_classes=classes, arch_kwargs=options, dataset=CifarLike()).module
    for bn in (m for m in module.modules() if isinstance(m, torch.nn.BatchNorm2d)):
        bn.reset_running_stats()
        bn.momentum = None
    module.train()
    with torch.no_grad():
        module(torch.rand(32, 3, 32, 32, generator=torch.Generator().manual_seed(1)))
    return module.eval()


def _random_images(model: torch.nn.Module, classes: int = 10):
    """N random 32x32 images labelled with the model's own predictions: every point starts correct."""
    from robench.data.base import ImageDataset

    images = torch.rand(N, 3, 32, 32, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        labels = model(images).argmax(1)
    return ImageDataset(
        "random-32x32", "test", images, labels, torch.arange(N), classes, (0.0,) * 3, (1.0,) * 3
    )


#: a randomly initialised wk_large_cifar (no BatchNorm, four convolutions) is smooth: 8/255 moves its
#: logit margin by about 0.0045 (the margin's linearisation) against a margin of about 0.0125
EPS = {"wk_large_cifar": 32 / 255}


def _evaluate(model, dataset, suite, eps: float = 8 / 255):
    from robench.engine.evaluate import evaluate
    from robench.engine.settings import RunSettings
    from robench.threat import ThreatModel

    return evaluate(model, dataset, ThreatModel("linf", eps), RunSettings(suite=suite, n=N, independent=True))


def _assert_every_stage_worked(result, suite, what) -> None:
    assert [s.attack for s in result.stages] == suite
    for stage in result.stages:
        assert stage.attacked == N and stage.rejected == 0, (what, stage)
        assert stage.cost.backward >= N, (what, stage)  # gradients flowed through the architecture
    assert result.stages[-1].broken >= 1, what  # the last attack's verified output moved this network


@pytest.mark.slow
@pytest.mark.parametrize("arch", ARCHS)
def test_every_32x32_layout_runs_the_suite_end_to_end(arch):
    model = _random_model(arch, options=SMALL.get(arch))
    suite = ["fgsm", "pgd-20", "autoattack"]
    result = _evaluate(model, _random_images(model), suite, EPS.get(arch, 8 / 255))
    _assert_every_stage_worked(result, suite, arch)


@pytest.mark.slow
@pytest.mark.parametrize(("options", "classes"), [(None, 1000), ({"num_classes": 10}, 10)])
def test_torchvision_factory_evaluates(options, classes):
    """--arch torchvision.models:resnet18: its own 1000 classes, or 10 through the arch kwargs."""
    model = _random_model("torchvision.models:resnet18", classes, options)
    suite = ["fgsm", "pgd-20"]
    _assert_every_stage_worked(_evaluate(model, _random_images(model, classes), suite), suite, options)
