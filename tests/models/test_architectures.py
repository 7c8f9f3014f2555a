"""Architectures: registered lazily from the layout table, uniform factories, user factories (torchvision,
timm, own code) and create_model's argument rules."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
import torch
from torch import nn

from robench.errors import RobenchError
from robench.models import ARCHITECTURES, create_model, layout_table

SMALL = ["small_cnn", "preact_resnet18", "resnet18"]


def test_required_architectures_are_registered():
    assert {"small_cnn", "preact_resnet18", "resnet18", "wide_resnet", "wrn_28_10", "wrn_34_10"} <= set(
        ARCHITECTURES.names()
    )
    community = {
        "preact_resnet18_rice", "preact_resnet18_wong", "preact_resnet18_wong_nobn", "preact_resnet",
        "wide_resnet_trades", "wrn_28_10_trades", "wrn_34_10_trades", "dm_wide_resnet", "dm_wrn_28_10",
        "dm_wrn_70_16", "dm_preact_resnet", "dm_preact_resnet18", "resnet50", "torchvision_resnet50",
    }  # fmt: skip
    assert community <= set(ARCHITECTURES.names())


def test_every_architecture_is_a_documented_row_of_the_layout_table():
    rows = {row["name"]: row for row in layout_table()}
    assert set(rows) == set(ARCHITECTURES.names())
    for name, row in rows.items():
        assert row["codebase"] and row["paper"] and row["distinguishes"], name
        doc = ARCHITECTURES.get(name).__doc__
        assert doc and doc.strip(), f"{name} has no docstring"
    assert rows["preact_resnet18_rice"]["shares_keys_with"] == "preact_resnet18_wong"
    assert rows["preact_resnet18_wong"]["shares_keys_with"] == "preact_resnet18_rice"
    assert rows["preact_resnet18"]["shares_keys_with"] == "preact_resnet18_rice, preact_resnet18_wong"


@pytest.mark.parametrize("arch", SMALL)
@pytest.mark.parametrize(("in_channels", "size", "classes"), [(1, 8, 10), (3, 16, 100)])
def test_factories_take_classes_and_channels(arch, in_channels, size, classes):
    model = create_model(arch, num_classes=classes, in_channels=in_channels).eval()
    with torch.no_grad():
        assert model(torch.rand(2, in_channels, size, size)).shape == (2, classes)


def test_wide_resnet_depth_and_width():
    model = create_model("wide_resnet", num_classes=7, in_channels=1, depth=10, width=2).eval()
    assert model(torch.rand(1, 1, 8, 8)).shape == (1, 7)
    assert model.fc.in_features == 128  # 64 * width
    with pytest.raises(RobenchError, match="depth must be 6n\\+4"):
        create_model("wide_resnet", depth=27)


@pytest.mark.parametrize(
    ("arch", "millions"),
    [("wrn_28_10", 36.48), ("wrn_34_10", 46.16), ("wrn_34_10_trades", 46.16), ("dm_wrn_28_10", 36.48),
     ("dm_wrn_70_16", 266.80), ("dm_preact_resnet18", 12.55), ("preact_resnet18_wong", 11.17),
     ("resnet50", 23.52), ("torchvision_resnet50", 25.56)],
)  # fmt: skip
def test_named_architectures_have_the_published_sizes(arch, millions):
    classes = 1000 if arch.startswith("torchvision") else 10
    with torch.device("meta"):  # no memory, no time: only the shapes
        count = sum(p.numel() for p in create_model(arch, num_classes=classes, in_channels=3).parameters())
    assert count / 1e6 == pytest.approx(millions, abs=0.01)


@pytest.mark.parametrize(
    ("generic", "options", "named"),
    [("wide_resnet", {"depth": 28, "width": 10}, "wrn_28_10"),
     ("wide_resnet_trades", {"depth": 34, "width": 10}, "wrn_34_10_trades"),
     ("dm_wide_resnet", {"depth": 70, "width": 16, "activation": "swish"}, "dm_wrn_70_16"),
     ("preact_resnet", {"shortcut_from": "input", "final_bn": False}, "preact_resnet18_wong_nobn")],
)  # fmt: skip
def test_a_named_layout_is_its_generic_with_the_settings(generic, options, named):
    with torch.device("meta"):
        shapes = {k: v.shape for k, v in create_model(generic, **options).state_dict().items()}
        assert shapes == {k: v.shape for k, v in create_model(named).state_dict().items()}


@pytest.mark.parametrize(
    ("arch", "options", "message"),
    [("preact_resnet", {}, "preact_resnet needs shortcut_from = 'activation' \\(Rice et al.\\) or 'input'"),
     ("preact_resnet", {"shortcut_from": "input"}, "preact_resnet needs final_bn = true or false"),
     ("dm_wide_resnet", {"depth": 10, "width": 1}, "dm_wide_resnet needs activation = 'swish'"),
     ("dm_preact_resnet", {"activation": "gelu"}, "dm_preact_resnet needs activation = 'swish'"),
     ("dm_wide_resnet", {"depth": 11, "activation": "relu"}, "depth must be 6n\\+4"),
     ("torchvision_resnet18", {}, "torchvision_resnet18 takes 3 input channels, not 1")],
)  # fmt: skip
def test_settings_a_checkpoint_cannot_tell_are_required(arch, options, message):
    with pytest.raises(RobenchError, match=message):
        create_model(arch, num_classes=10, in_channels=1 if arch.startswith("torchvision") else 3, **options)


def test_importing_robench_imports_no_architecture():
    code = "import sys, robench, robench.models, robench.data; " + (
        "print([m for m in sys.modules if m.startswith('robench.models.archs.') or m == 'torchvision'])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


@pytest.fixture
def user_module(tmp_path, monkeypatch):
    (tmp_path / "my_nets.py").write_text(
        textwrap.dedent(
            """
            import torch.nn as nn

            def tiny(num_classes=10):  # no in_channels: a user's factory may hard-code it
                return nn.Sequential(nn.Flatten(), nn.Linear(64, num_classes))

            def any_kwargs(**kwargs):  # like timm's entrypoints: robench passes only the options given
                assert set(kwargs) <= {"num_classes"}, kwargs
                return nn.Sequential(nn.Flatten(), nn.Linear(64, kwargs.get("num_classes", 1000)))

            def broken(num_classes=10, in_channels=3):
                return len(None)  # a bug inside the user's factory

            def not_a_model(num_classes=10):
                return "model"
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "my_nets"
    sys.modules.pop("my_nets", None)


def test_user_factory_by_module_path(user_module):
    model = create_model(f"{user_module}:tiny", num_classes=4, in_channels=1)
    assert model(torch.rand(2, 1, 8, 8)).shape == (2, 4)


def test_kwargs_factory_gets_the_class_count_and_the_options(user_module):
    # the torchvision/timm convention: a **kwargs factory takes num_classes (the channels only if named)
    assert create_model(f"{user_module}:any_kwargs", num_classes=4, in_channels=1)[1].out_features == 4
    assert create_model(f"{user_module}:any_kwargs", 3, 1, options={"num_classes": 3})[1].out_features == 3
    with pytest.raises(RobenchError, match="arch kwargs num_classes=5 contradict the model's 3 classes"):
        create_model(f"{user_module}:any_kwargs", 3, 1, options={"num_classes": 5})


def test_a_user_factory_that_raises_is_one_line_naming_it(user_module):
    with pytest.raises(RobenchError) as info:
        create_model(f"{user_module}:broken", num_classes=4)
    assert str(info.value) == (
        "architecture 'my_nets:broken' raised TypeError: object of type 'NoneType' has no len()"
    )
    assert isinstance(info.value.__cause__, TypeError)  # the original stays attached for Python users


def test_factory_must_return_a_module(user_module):
    with pytest.raises(RobenchError, match="returned str, not a torch nn.Module"):
        create_model(f"{user_module}:not_a_model")


def test_torchvision_factory_builds_with_its_defaults_or_the_options():
    model = create_model("torchvision.models:resnet18", num_classes=10, in_channels=3)
    assert model.fc.out_features == 10  # torchvision's factory takes num_classes through **kwargs
    assert (
        create_model("torchvision.models:resnet18", 10, 3, options={"num_classes": 10}).fc.out_features == 10
    )
    with pytest.raises(
        RobenchError, match="'torchvision.models:resnet18' raised TypeError: .*unexpected keyword"
    ):
        create_model("torchvision.models:resnet18", depth=3)


def test_timm_factory_gets_no_in_channels():
    timm = pytest.importorskip("timm")
    model = create_model("timm.models.resnet:resnet18", 10, 3, options={"num_classes": 10})
    assert isinstance(model, timm.models.resnet.ResNet) and model.fc.out_features == 10


def test_options_contradicting_the_classes_are_refused():
    with pytest.raises(RobenchError, match="arch kwargs num_classes=100 contradict the model's 10 classes"):
        create_model("resnet18", 10, 3, options={"num_classes": 100})


def test_unknown_option_names_the_accepted_ones():
    with pytest.raises(RobenchError, match=r"does not accept 'depth' \(its options: width\)"):
        create_model("small_cnn", depth=3)


def test_unknown_architecture_suggests_close_names():
    with pytest.raises(RobenchError, match="did you mean 'resnet18'"):
        create_model("resnet-18")
    with pytest.raises(RobenchError, match="cannot import module 'no_such_pkg.nets'"):
        create_model("no_such_pkg.nets:net")


def test_factory_kwargs_reach_the_architecture():
    model = create_model("small_cnn", num_classes=3, in_channels=1, width=4)
    assert isinstance(model[0], nn.Conv2d) and model[0].out_channels == 4
