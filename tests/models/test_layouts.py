"""Known answers per layout: a checkpoint saved the way each public codebase saves it loads into robench
and computes what that codebase's forward computes.

The expected logits come from tests/models/reference_layouts.py: functional re-derivations of each
codebase's forward (torch.nn.functional on the state dict's tensors, under the codebase's own key names,
with its fixed-size pooling and in-forward normalisation), with seeded random weights and random
BatchNorm running statistics. torchvision's own module is the reference for the torchvision layouts.
"""

from __future__ import annotations

import warnings

import pytest
import reference_layouts as ref
import torch
import torchvision

from robench.models.loading import LoadNote, load_model

X = torch.rand(2, 3, 32, 32, generator=torch.Generator().manual_seed(1))
MADRY_CIFAR = ((0.4914, 0.4822, 0.4465), (0.2023, 0.1994, 0.2010))  # robustness' / semisup-adv's values
IMAGENET = ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
DM10, DM100 = (((0.4914, 0.4822, 0.4465), (0.2471, 0.2435, 0.2616)),
                        ((0.5071, 0.4865, 0.4409), (0.2673, 0.2564, 0.2762)))  # fmt: skip


class Dataset:
    """The attributes of an ImageDataset the normalisation rule reads."""

    def __init__(self, name: str, mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0)) -> None:
        self.name, self.mean, self.std = name, mean, std


def normalized(x: torch.Tensor, values) -> torch.Tensor:
    mean, std = values
    return (x - torch.tensor(mean).view(1, 3, 1, 1)) / torch.tensor(std).view(1, 3, 1, 1)


def buffer(values, shape=(1, 3, 1, 1)) -> torch.Tensor:
    return torch.tensor(values).view(shape)


def prefixed(state: dict, prefix: str) -> dict:
    return {prefix + k: v for k, v in state.items()}


def load(tmp_path, saved, arch: str, **kwargs):
    path = tmp_path / "checkpoint.pt"
    torch.save(saved, path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loaded = load_model(checkpoint=path, arch=arch, num_classes=kwargs.pop("classes", 10), **kwargs)
    loaded.caught = [str(w.message) for w in caught]
    return loaded


def assert_same_logits(loaded, x: torch.Tensor, expected: torch.Tensor) -> None:
    with torch.no_grad():
        got = loaded.module(x)
    torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-4 * float(expected.abs().max()))


def test_rice_preact_resnet18_saved_by_dataparallel(tmp_path):
    p = ref.Params(0)
    expected = ref.preact_resnet18(p, normalized(X, DM10), shortcut_from="activation", final_bn=True)
    loaded = load(tmp_path, prefixed(p.state, "module."), "preact_resnet18_rice", mean=DM10[0], std=DM10[1])
    assert_same_logits(loaded, X, expected)
    assert loaded.layout == "preact_resnet18_rice" and loaded.normalization.source == "explicit"


def test_wong_preact_resnet18_with_half_precision_weights(tmp_path):
    p = ref.Params(1)
    ref.preact_resnet18(p, X, shortcut_from="input", final_bn=True)
    saved = {k: v.half() if k.endswith("conv1.weight") or "conv" in k else v for k, v in p.state.items()}
    p.state = saved  # apex amp O2 keeps conv weights in fp16: the reference reads the same rounded values
    expected = ref.preact_resnet18(p, X, shortcut_from="input", final_bn=True)
    assert_same_logits(load(tmp_path, saved, "preact_resnet18_wong"), X, expected)


def test_robustbench_wong2020fast_entry_with_mu_sigma_buffers(tmp_path):
    p = ref.Params(2)
    expected = ref.preact_resnet18(p, normalized(X, DM10), shortcut_from="input", final_bn=False)
    saved = {"state_dict": {**p.state, "mu": buffer(DM10[0]), "sigma": buffer(DM10[1])}}
    loaded = load(tmp_path, saved, "preact_resnet18_wong_nobn", dataset=Dataset("cifar10"))
    assert_same_logits(loaded, X, expected)
    assert loaded.normalization.source == "checkpoint" and loaded.normalization.mean == pytest.approx(DM10[0])
    assert loaded.normalization.detail == "RobustBench mu/sigma buffers"


def test_preact_resnet_switches_cover_the_fourth_combination(tmp_path):
    p = ref.Params(3)
    expected = ref.preact_resnet18(p, X, shortcut_from="activation", final_bn=False)
    options = {"shortcut_from": "activation", "final_bn": False}
    loaded = load(tmp_path, p.state, "preact_resnet", arch_kwargs=options)
    assert_same_logits(loaded, X, expected)
    assert loaded.arch_kwargs == options and loaded.provenance()["arch_kwargs"] == options


def test_cifar_resnet18_nested_under_state_dict(tmp_path):
    p = ref.Params(4)
    expected = ref.cifar_resnet(p, X, bottleneck=False)
    assert_same_logits(load(tmp_path, {"state_dict": p.state, "epoch": 3}, "resnet18"), X, expected)


def robustness_checkpoint(p: ref.Params, values) -> dict:
    """MadryLab/robustness train.py: {'model': AttackerModel.state_dict() under DataParallel, ...}."""
    norm = {"new_mean": buffer(values[0], (3, 1, 1)), "new_std": buffer(values[1], (3, 1, 1))}
    model = {**prefixed(norm, "normalizer."), **prefixed(p.state, "model."),
             **prefixed(norm, "attacker.normalize."), **prefixed(p.state, "attacker.model.")}  # fmt: skip
    return {"model": prefixed(model, "module."), "optimizer": {"state": {}}, "schedule": None, "epoch": 150}


def test_robustness_library_resnet50_cifar(tmp_path):
    p = ref.Params(5)
    expected = ref.cifar_resnet(p, normalized(X, MADRY_CIFAR), bottleneck=True)
    loaded = load(tmp_path, robustness_checkpoint(p, MADRY_CIFAR), "resnet50")
    assert_same_logits(loaded, X, expected)
    assert loaded.normalization.detail == "MadryLab/robustness normalizer"
    assert any("dropped the 322 attacker.* keys, a copy of model.*" in n for n in loaded.notes)


def test_robustness_library_imagenet_resnet50_is_torchvision_layout(tmp_path):
    torch.manual_seed(6)
    reference = randomized_bn(torchvision.models.resnet50(weights=None, num_classes=10)).eval()
    p = ref.Params(0)
    p.state = dict(reference.state_dict())
    x = torch.rand(2, 3, 64, 64, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        expected = reference(normalized(x, IMAGENET))
    loaded = load(tmp_path, robustness_checkpoint(p, IMAGENET), "torchvision_resnet50")
    assert_same_logits(loaded, x, expected)
    assert loaded.normalization.mean == pytest.approx(IMAGENET[0])


def randomized_bn(model: torch.nn.Module) -> torch.nn.Module:
    generator = torch.Generator().manual_seed(3)
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            c = module.num_features
            module.running_mean.copy_(0.2 * torch.randn(c, generator=generator))
            module.running_var.copy_(0.5 + torch.rand(c, generator=generator))
            module.weight.data.copy_(0.5 + torch.rand(c, generator=generator))
            module.bias.data.copy_(0.1 * torch.randn(c, generator=generator))
    return model


def test_torchvision_factory_through_the_loader(tmp_path):
    torch.manual_seed(7)
    reference = randomized_bn(torchvision.models.resnet18(weights=None)).eval()  # 1000 classes
    x = torch.rand(2, 3, 64, 64, generator=torch.Generator().manual_seed(4))
    with torch.no_grad():
        expected = reference(x)
    loaded = load(tmp_path, reference.state_dict(), "torchvision.models:resnet18", classes=1000)
    assert_same_logits(loaded, x, expected)
    assert loaded.layout == "torchvision.models:resnet18" and loaded.normalization.source == "none"


def test_rice_wideresnet(tmp_path):
    p = ref.Params(8)
    expected = ref.wide_resnet(p, X, depth=10, width=2)
    loaded = load(tmp_path, p.state, "wide_resnet", arch_kwargs={"depth": 10, "width": 2})
    assert_same_logits(loaded, X, expected)


def test_carmon_wideresnet_with_normalize_input_and_sub_block1(tmp_path):
    p = ref.Params(9)
    expected = ref.wide_resnet(p, normalized(X, MADRY_CIFAR), depth=16, width=2, sub_block1=True)
    net = {"0.mean": buffer(MADRY_CIFAR[0]), "0.std": buffer(MADRY_CIFAR[1]), **prefixed(p.state, "1.")}
    saved = {"num_classes": 10, "state_dict": prefixed(net, "module."), "normalize_input": True}
    loaded = load(tmp_path, saved, "wide_resnet_trades", arch_kwargs={"depth": 16, "width": 2})
    assert_same_logits(loaded, X, expected)
    assert loaded.normalization.detail == "semisup-adv NormalizeInput"
    unwrapped, stripped, dropped, applied = loaded.notes
    assert unwrapped.endswith("unwrapped the state dict nested under 'state_dict'")
    assert stripped.endswith("stripped the 'module.' prefix of every key (DataParallel/DDP)")
    assert dropped.endswith("dropped 25 sub_block1.* weights that wide_resnet_trades's forward never uses")
    assert applied.endswith(
        "robench applies its normalisation before the network, mean 0.4914,0.4822,0.4465 std "
        "0.2023,0.1994,0.201 from the checkpoint (semisup-adv NormalizeInput)"
    )
    assert loaded.caught == [unwrapped, stripped, dropped, applied]  # shown once each, as notes


def test_trades_wrn_34_10_drops_its_61_sub_block1_weights(tmp_path):
    p = ref.Params(10)
    expected = ref.wide_resnet(p, X, depth=34, width=10, sub_block1=True)
    loaded = load(tmp_path, p.state, "wrn_34_10_trades")
    assert_same_logits(loaded, X, expected)
    assert "dropped 61 sub_block1.* weights" in loaded.notes[0]
    assert [m for m in loaded.caught if "sub_block1" in m] == list(loaded.notes)


@pytest.mark.parametrize(("dataset", "values"), [("cifar10", DM10), ("cifar100", DM100)])
def test_deepmind_wideresnet_normalises_with_deepminds_values(tmp_path, dataset, values):
    p = ref.Params(11)
    expected = ref.dm_wide_resnet(p, X, depth=16, width=2, act=ref.swish, mean=values[0], std=values[1])
    options = {"depth": 16, "width": 2, "activation": "swish"}
    loaded = load(tmp_path, p.state, "dm_wide_resnet", arch_kwargs=options, dataset=Dataset(dataset))
    assert_same_logits(loaded, X, expected)
    assert loaded.normalization.source == "architecture" and loaded.normalization.mean == values[0]


def test_deepmind_wideresnet_relu_with_explicit_values(tmp_path):
    p = ref.Params(12)
    expected = ref.dm_wide_resnet(p, X, depth=10, width=3, act=torch.relu, mean=(0.5,) * 3, std=(0.25,) * 3)
    options = {"depth": 10, "width": 3, "activation": "relu"}
    loaded = load(tmp_path, p.state, "dm_wide_resnet", arch_kwargs=options, mean=[0.5] * 3, std=[0.25] * 3)
    assert_same_logits(loaded, X, expected)


def test_deepmind_preact_resnet18(tmp_path):
    p = ref.Params(13)
    expected = ref.dm_preact_resnet18(p, X, act=ref.swish, mean=DM100[0], std=DM100[1], classes=100)
    loaded = load(tmp_path, p.state, "dm_preact_resnet18", classes=100, dataset=Dataset("cifar100"))
    assert_same_logits(loaded, X, expected)


def test_the_two_preact_layouts_on_the_same_keys_compute_different_functions(tmp_path):
    """The reason a family name must not load a checkpoint: same keys, same shapes, other logits."""
    p = ref.Params(14)
    wong = ref.preact_resnet18(p, X, shortcut_from="input", final_bn=True)
    rice = ref.preact_resnet18(p, X, shortcut_from="activation", final_bn=True)
    loaded = load(tmp_path, p.state, "preact_resnet18_rice")  # the user named Rice: robench computes Rice
    assert_same_logits(loaded, X, rice)
    assert float((wong - rice).abs().max()) > 0.1 * float(wong.abs().max())
    assert_same_logits(load(tmp_path, p.state, "preact_resnet18_wong"), X, wong)


def test_load_notes_are_warnings_of_their_own_category(tmp_path):
    p = ref.Params(15)
    ref.wide_resnet(p, X, depth=10, width=1, sub_block1=True)
    path = tmp_path / "trades.pt"
    torch.save(p.state, path)
    with pytest.warns(LoadNote, match="dropped 12 sub_block1"):
        load_model(
            checkpoint=path, arch="wide_resnet_trades", num_classes=10, arch_kwargs={"depth": 10, "width": 1}
        )
