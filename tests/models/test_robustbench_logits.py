"""robench's loader of RobustBench zoo models computes exactly the logits of RobustBench's own
``robustbench.utils.load_model`` on the same files, across the zoo's architecture families (the smallest
entry of each), with seeded random weights saved in RobustBench's file layout."""

from __future__ import annotations

import pytest
import torch
from robustbench_files import needs_robustbench, torch_home, write_entry  # noqa: F401

pytestmark = [needs_robustbench, pytest.mark.slow, pytest.mark.filterwarnings("ignore")]

SAMPLE = [
    "cifar10/Linf/Ding2020MMA",  # WideResNet-28-4 (the zoo's WideResNet class, its smallest network)
    "cifar10/L2/Rebuffi2021Fixing_R18_cutmix_ddpm",  # DeepMind PreActResNet-18 (Swish, normalises inside)
    "cifar10/Linf/Andriushchenko2020Understanding",  # PreActResNet-18: checkpoint['last'], non-strict load
    "cifar10/Linf/Addepalli2022Efficient_RN18",  # ResNet-18
    "cifar10/Linf/Engstrom2019Robustness",  # ResNet-50 without its mu/sigma in the file (non-strict)
    "cifar10/Linf/Chen2020Adversarial",  # an ensemble of three networks, <name>.pt_m<i>.pt
    "cifar10/corruptions/Hendrycks2020AugMix_ResNeXt",  # ResNeXt (only a corruptions entry has one)
    "cifar10/Linf/Debenedetti2022Light_XCiT-S12",  # XCiT, a timm model with its pretrained file
    "imagenet/Linf/Salman2020Do_R18",  # ImageNet ResNet-18: keys get RobustBench's model. prefix
    "imagenet/Linf/Singh2023Revisiting_ConvNeXt-T-ConvStem",  # ConvNeXt with a conv stem, no prefix added
    "imagenet/Linf/Liu2023Comprehensive_Swin-B",  # Swin-B through timm's Swin key filter
    "imagenet/Linf/Standard_R50",  # torchvision's weights, loaded by the zoo's constructor
]


def robench_module(zoo_id: str, model_dir):
    """robench's module; a corruptions entry (refused by name) through the same build and key handling."""
    from robench.models.checkpoint import read_checkpoint
    from robench.models.robustbench.entries import zoo_entry
    from robench.models.robustbench.load import build, load_zoo_model

    if "/corruptions/" not in zoo_id:
        return load_zoo_model(f"robustbench:{zoo_id}", model_dir=model_dir).module
    entry = zoo_entry(*zoo_id.split("/"))
    paths = entry.weight_files(model_dir)
    return build(entry, [read_checkpoint(p) for p in paths], paths)[0].eval()


@pytest.mark.parametrize("zoo_id", SAMPLE)
def test_same_logits_as_robustbench(zoo_id, tmp_path, torch_home):  # noqa: F811
    from robench.models.robustbench.entries import zoo_entry
    from robench.models.robustbench.imports import robustbench

    dataset, threat, name = zoo_id.split("/")
    entry = zoo_entry(dataset, threat, name)
    write_entry(entry, tmp_path, seed=7)
    ours = robench_module(zoo_id, tmp_path)
    theirs = robustbench().utils.load_model(name, model_dir=tmp_path, dataset=dataset, threat_model=threat)
    side = 32 if dataset != "imagenet" else 224
    x = torch.rand(2, 3, side, side, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        mine, reference = ours(x), theirs(x)
    assert mine.shape == (2, entry.num_classes)
    assert torch.isfinite(mine).all()
    assert torch.equal(mine, reference)
    assert mine.std() > 0  # the weights reached the output
    assert not ours.training
    assert all(not p.requires_grad for p in ours.parameters()) or threat == "corruptions"
