"""Never a silent wrong function where it can be told: a family name refuses a checkpoint whose keys fit
several layouts, and a near miss names the layout to use. Each message is one line."""

from __future__ import annotations

import json

import pytest
import reference_layouts as ref
import torch

from robench.errors import CheckpointError
from robench.models import create_model
from robench.models.checkpoint import fit_state_dict, save_checkpoint
from robench.models.identify import identify
from robench.models.layouts import concrete_layout
from robench.models.loading import load_model

X = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(0))


@pytest.fixture(scope="module")
def wong_state():
    p = ref.Params(0)
    ref.preact_resnet18(p, X, shortcut_from="input", final_bn=True)
    return p.state


@pytest.fixture(scope="module")
def nobn_state():
    p = ref.Params(1)
    ref.preact_resnet18(p, X, shortcut_from="input", final_bn=False)
    return p.state


def _refusal(tmp_path, state, arch: str, **kwargs) -> str:
    path = tmp_path / "net.pt"
    torch.save(state, path)
    with pytest.raises(CheckpointError) as info:
        load_model(checkpoint=path, arch=arch, num_classes=kwargs.pop("classes", 10), **kwargs)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_a_wong_checkpoint_under_the_family_name_is_refused_naming_both_layouts(tmp_path, wong_state):
    message = _refusal(tmp_path, wong_state, "preact_resnet18")
    assert (
        "fits 2 layouts of 'preact_resnet18' that share its keys but compute different functions" in message
    )
    assert "preact_resnet18_rice (Rice et al. 2020: 1x1 projection shortcut from relu(bn1(x))" in message
    assert "preact_resnet18_wong (Wong et al. 2020: 1x1 projection shortcut from the block input x" in message
    assert message.endswith("name the layout your code used (--arch, or the card's architecture)")


def test_robench_own_preact_checkpoint_is_refused_too_and_loads_under_its_layout(tmp_path):
    """A fresh preact_resnet18 is Rice's layout; its checkpoint must be recorded under that name."""
    torch.manual_seed(0)
    path = tmp_path / "own.safetensors"
    save_checkpoint(create_model("preact_resnet18"), path)
    assert concrete_layout("preact_resnet18") == "preact_resnet18_rice"
    with pytest.raises(CheckpointError, match="fits 2 layouts of 'preact_resnet18'"):
        load_model(checkpoint=path, arch="preact_resnet18", num_classes=10)
    assert (
        load_model(checkpoint=path, arch="preact_resnet18_rice", num_classes=10).layout
        == "preact_resnet18_rice"
    )
    fresh = load_model(arch="preact_resnet18", num_classes=10)  # no weights: nothing to tell apart
    assert fresh.architecture == "preact_resnet18" and fresh.layout == "preact_resnet18_rice"


def test_no_final_bn_names_robustbench_wong2020fast(tmp_path, nobn_state):
    message = _refusal(tmp_path, nobn_state, "preact_resnet18_wong")
    assert "does not fit architecture 'preact_resnet18_wong': 4 missing keys (bn.weight" in message
    assert message.endswith("use --arch preact_resnet18_wong_nobn")
    assert "no final BatchNorm and no ReLU before pooling" in message
    family = _refusal(tmp_path, nobn_state, "preact_resnet18")
    assert family.startswith("'preact_resnet18' names several layouts, and ")
    assert family.endswith("use --arch preact_resnet18_wong_nobn")


def test_a_final_bn_under_the_nobn_layout_names_both_bn_layouts(tmp_path, wong_state):
    message = _refusal(tmp_path, wong_state, "preact_resnet18_wong_nobn")
    assert "unexpected keys (bn.weight" in message
    assert "the keys look like preact_resnet18_rice (" in message and " or preact_resnet18_wong (" in message
    assert message.endswith("which share them: name the one your code used")


def test_trades_checkpoint_under_the_plain_wideresnet_names_the_trades_layout(tmp_path):
    with torch.device("meta"):  # shapes only: the refusal comes before any weight is copied
        net = create_model("wrn_34_10")
        block = create_model("wide_resnet", depth=34, width=10).block1.state_dict()
    plain = net.state_dict()
    state = {**plain, **{f"sub_block1.{k}": v for k, v in block.items()}}
    assert len(state) - len(plain) == 61
    with pytest.raises(CheckpointError) as info:
        fit_state_dict(net, state, arch="wrn_34_10", num_classes=10, source="trades.pt")
    message = str(info.value)
    assert "61 unexpected keys (sub_block1.layer.0.bn1.weight" in message
    assert "the keys look like wrn_34_10_trades (Zhang et al. 2019: the wide_resnet function; its " in message
    assert message.endswith("use --arch wrn_34_10_trades")


@pytest.mark.parametrize(
    ("make", "arch", "expected"),
    [
        (lambda p: ref.dm_wide_resnet(p, X, depth=16, width=2, act=ref.swish, mean=(0,) * 3, std=(1,) * 3),
         "wrn_28_10", "--arch dm_wide_resnet --arch-kwargs '{\"depth\": 16, \"width\": 2, \"activation\": "
         "\"swish\"}' (Swish, as in RobustBench's DeepMind entries; keys cannot tell)"),
        (lambda p: ref.dm_preact_resnet18(p, X, act=ref.swish, mean=(0,) * 3, std=(1,) * 3),
         "preact_resnet18_rice",
         "--arch dm_preact_resnet18 (Swish, as in RobustBench's DeepMind entries; keys cannot tell)"),
        (lambda p: ref.wide_resnet(p, X, depth=10, width=2), "wrn_28_10",
         "--arch wide_resnet --arch-kwargs '{\"depth\": 10, \"width\": 2}'"),
        (lambda p: ref.cifar_resnet(p, X, bottleneck=False), "preact_resnet18_wong", "--arch resnet18"),
    ],
    ids=["dm-wrn", "dm-preact", "wrn-depth", "resnet18"],
)  # fmt: skip
def test_near_misses_name_the_arch_to_use(tmp_path, make, arch, expected):
    p = ref.Params(2)
    make(p)
    assert _refusal(tmp_path, p.state, arch).endswith(f"use {expected}")


def test_robustbench_bias_last_false_is_named(tmp_path):
    p = ref.Params(3)
    ref.wide_resnet(p, X, depth=10, width=2)
    del p.state["fc.bias"]
    message = _refusal(tmp_path, p.state, "wide_resnet", arch_kwargs={"depth": 10, "width": 2})
    assert message.endswith(
        f"use --arch wide_resnet --arch-kwargs '{json.dumps({'depth': 10, 'width': 2, 'fc_bias': False})}'"
    )
    options = {"depth": 10, "width": 2, "fc_bias": False}
    path = tmp_path / "net.pt"
    assert (
        load_model(checkpoint=path, arch="wide_resnet", num_classes=10, arch_kwargs=options).layout
        == "wide_resnet"
    )


def test_identify_reads_depth_and_width_from_the_keys():
    with torch.device("meta"):
        state = create_model("dm_wrn_70_16").state_dict()
        wide = create_model("wide_resnet_trades", depth=28, width=4).state_dict()
    assert [c.arch for c in identify(state)] == ["dm_wrn_70_16"]
    (candidate,) = identify({**wide, "sub_block1.layer.0.bn1.weight": wide["bn1.weight"]})
    assert (candidate.arch, candidate.options) == ("wide_resnet_trades", {"depth": 28, "width": 4})


def test_normalisation_buffers_are_refused_by_a_caller_that_would_ignore_them():
    net = create_model("small_cnn", num_classes=10, in_channels=1, width=4)
    state = {**net.state_dict(), "mu": torch.zeros(1, 1, 1, 1), "sigma": torch.ones(1, 1, 1, 1)}
    with pytest.raises(
        CheckpointError, match=r"carries its input normalisation \(RobustBench mu/sigma buffers: "
    ):
        fit_state_dict(net, state, arch="small_cnn", num_classes=10, source="ft.pt")
    fitted = fit_state_dict(
        net, state, arch="small_cnn", num_classes=10, source="ft.pt", accept_normalization=True
    )
    assert fitted.normalization.mean == (0.0,) and fitted.normalization.std == (1.0,)


def test_an_attacker_copy_that_differs_is_refused():
    net = create_model("small_cnn", num_classes=10, in_channels=1, width=4)
    model = {f"model.{k}": v for k, v in net.state_dict().items()}
    copy = {f"attacker.model.{k}": v.clone() for k, v in net.state_dict().items()}
    copy["attacker.model.0.weight"] += 1
    with pytest.raises(
        CheckpointError, match="attacker.* copy of the network .* differs from model.* at attacker"
    ):
        fit_state_dict(net, {**model, **copy}, arch="small_cnn", num_classes=10, source="r.pt")
