"""Architectures: registered lazily, uniform factories, user factories, and create_model's argument rules."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
import torch
from torch import nn

from robench.errors import RobenchError
from robench.models import ARCHITECTURES, create_model

SMALL = ["small_cnn", "preact_resnet18", "resnet18"]


def test_required_architectures_are_registered():
    assert {"small_cnn", "preact_resnet18", "resnet18", "wide_resnet", "wrn_28_10", "wrn_34_10"} <= set(
        ARCHITECTURES.names()
    )


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


@pytest.mark.parametrize(("arch", "millions"), [("wrn_28_10", 36.48), ("wrn_34_10", 46.16)])
def test_named_wide_resnets_have_the_published_sizes(arch, millions):
    count = sum(p.numel() for p in create_model(arch, num_classes=10, in_channels=3).parameters())
    assert count / 1e6 == pytest.approx(millions, abs=0.01)


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

            def broken(num_classes=10, in_channels=3):
                return len(None)  # a bug inside the factory must surface, not be retried

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


def test_bug_inside_a_factory_is_not_swallowed(user_module):
    with pytest.raises(TypeError, match="NoneType"):
        create_model(f"{user_module}:broken", num_classes=4)


def test_factory_must_return_a_module(user_module):
    with pytest.raises(RobenchError, match="returned str, not a torch nn.Module"):
        create_model(f"{user_module}:not_a_model")


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
