"""Known answers for the certified-training layouts: Wong & Kolter 2018 (locuslab/convex_adversarial
``examples/problems.py``) and DeepMind's IBP nets (Gowal et al. 2018; deepmind/interval-bound-propagation
``examples/train.py``, CROWN-IBP's ``IBP_large``), saved as their authors saved them.

Each network is transcribed below from its codebase as a list of layers; the reference forward walks that
list with torch.nn.functional on seeded random tensors keyed by the layer's position in the authors'
``nn.Sequential`` (``0.weight``, ``2.weight``, ... -- their ``Flatten`` and ``ReLU`` hold no weights). The
state dict is saved the authors' way: Wong & Kolter's ``torch.save(model.state_dict())`` from a 2018 GPU
run (legacy non-zip pickle, CUDA-tagged storages), CROWN-IBP's ``torch.save({'state_dict': ..., 'epoch':
t})``. robench must load it under its registered name and compute the same logits.
"""

from __future__ import annotations

from unittest import mock

import pytest
import torch
import torch.nn.functional as F
from reference_layouts import Params

from robench.models import ARCHITECTURES, find_layout
from robench.models.checkpoint import read_state_dict
from robench.models.loading import load_model

# (conv, out, kernel, stride, padding) | (relu,) | (flatten,) | (linear, out): the authors' Sequential
WK_SMALL = [("conv", 16, 4, 2, 1), ("relu",), ("conv", 32, 4, 2, 1), ("relu",), ("flatten",),
            ("linear", 100), ("relu",), ("linear", 10)]  # fmt: skip
WK_LARGE = [("conv", 32, 3, 1, 1), ("relu",), ("conv", 32, 4, 2, 1), ("relu",), ("conv", 64, 3, 1, 1),
            ("relu",), ("conv", 64, 4, 2, 1), ("relu",), ("flatten",), ("linear", 512), ("relu",),
            ("linear", 512), ("relu",), ("linear", 10)]  # fmt: skip
DM_SMALL = [("conv", 16, 4, 2, 0), ("relu",), ("conv", 32, 4, 1, 0), ("relu",), ("flatten",),
            ("linear", 100), ("relu",), ("linear", 10)]  # fmt: skip
DM_MEDIUM = [("conv", 32, 3, 1, 0), ("relu",), ("conv", 32, 4, 2, 0), ("relu",), ("conv", 64, 3, 1, 0),
             ("relu",), ("conv", 64, 4, 2, 0), ("relu",), ("flatten",), ("linear", 512), ("relu",),
             ("linear", 512), ("relu",), ("linear", 10)]  # fmt: skip
DM_LARGE = [("conv", 64, 3, 1, 1), ("relu",), ("conv", 64, 3, 1, 1), ("relu",), ("conv", 128, 3, 2, 1),
            ("relu",), ("conv", 128, 3, 1, 1), ("relu",), ("conv", 128, 3, 1, 1), ("relu",), ("flatten",),
            ("linear", 512), ("relu",), ("linear", 10)]  # fmt: skip

# registered name, layers, input (channels, side), arch kwargs, how the authors saved it
CASES = [
    ("wk_small_mnist", WK_SMALL, (1, 28), {}, "wong_kolter"),
    ("wk_large_mnist", WK_LARGE, (1, 28), {}, "wong_kolter"),
    ("wk_small_cifar", WK_SMALL, (3, 32), {}, "wong_kolter"),
    ("wk_large_cifar", WK_LARGE, (3, 32), {}, "wong_kolter"),
    ("ibp_small", DM_SMALL, (1, 28), {}, "crown_ibp"),
    ("ibp_small", DM_SMALL, (3, 32), {"input_size": 32}, "crown_ibp"),
    ("ibp_medium", DM_MEDIUM, (1, 28), {}, "crown_ibp"),
    ("ibp_large", DM_LARGE, (1, 28), {}, "crown_ibp"),
]


def reference_forward(p: Params, layers, x: torch.Tensor) -> torch.Tensor:
    for position, layer in enumerate(layers):
        kind, key = layer[0], str(position)
        if kind == "conv":
            _, out, k, stride, padding = layer
            fan_in = x.shape[1] * k * k
            weight = p.get(f"{key}.weight", (out, x.shape[1], k, k), scale=(2.0 / fan_in) ** 0.5)
            bias = p.get(f"{key}.bias", (out,), scale=0.1)
            x = F.conv2d(x, weight, bias, stride=stride, padding=padding)
        elif kind == "linear":
            x = p.linear(x, key, layer[1])
        elif kind == "relu":
            x = F.relu(x)
        else:
            x = x.reshape(x.shape[0], -1)  # the authors' Flatten: x.view(x.size(0), -1)
    return x


def save_as_authors(state: dict, path, how: str) -> None:
    if how == "wong_kolter":  # torch 0.4 on a GPU: the legacy pickle format, storages tagged cuda:0
        with mock.patch.object(torch.serialization, "location_tag", lambda storage: "cuda:0"):
            torch.save(state, path, _use_new_zipfile_serialization=False)
    else:
        torch.save({"state_dict": state, "epoch": 99}, path)


@pytest.mark.parametrize(("name", "layers", "shape", "kwargs", "how"), CASES)
def test_checkpoint_saved_by_its_authors_gives_their_logits(tmp_path, name, layers, shape, kwargs, how):
    p = Params(sum(map(ord, name)) + shape[1])
    x = torch.rand(2, shape[0], shape[1], shape[1], generator=torch.Generator().manual_seed(3))
    expected = reference_forward(p, layers, x)
    path = tmp_path / f"{name}.pth"
    save_as_authors(p.state, path, how)
    loaded = load_model(checkpoint=path, arch=name, num_classes=10, in_channels=shape[0], arch_kwargs=kwargs)
    with torch.no_grad():
        got = loaded.module(x)
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5 * float(expected.abs().max()))
    assert loaded.layout == name and loaded.normalization.source == "none"  # inputs in [0, 1] as they are
    built = loaded.module.net.state_dict() if hasattr(loaded.module, "net") else loaded.module.state_dict()
    assert [(k, tuple(v.shape)) for k, v in built.items()] == [
        (k, tuple(v.shape)) for k, v in p.state.items()
    ]


def test_the_keys_are_the_authors_sequential_positions():
    from robench.models import create_model

    assert list(create_model("wk_small_mnist", 10, 1).state_dict()) == [
        "0.weight", "0.bias", "2.weight", "2.bias", "5.weight", "5.bias", "7.weight", "7.bias",
    ]  # fmt: skip
    assert [k for k in create_model("ibp_large", 10, 1).state_dict() if k.endswith("weight")] == [
        "0.weight", "2.weight", "4.weight", "6.weight", "8.weight", "11.weight", "13.weight",
    ]  # fmt: skip
    assert tuple(create_model("ibp_small", 10, 3, input_size=32).state_dict()["5.weight"].shape) == (
        100,
        4608,
    )


@pytest.mark.parametrize(
    ("name", "codebase", "paper"),
    [
        (
            "wk_small_mnist",
            "locuslab/convex_adversarial examples/problems.py mnist_model",
            "Wong & Kolter 2018",
        ),
        (
            "wk_large_cifar",
            "locuslab/convex_adversarial examples/problems.py cifar_model_large",
            "Wong & Kolter 2018",
        ),
        ("ibp_medium", "deepmind/interval-bound-propagation", "Gowal et al. 2018"),
        ("ibp_large", "huanzhang12/CROWN-IBP model_defs_gowal.py IBP_large", "Gowal et al. 2018"),
    ],
)
def test_layouts_are_registered_with_paper_and_codebase(name, codebase, paper):
    layout = find_layout(name)
    assert name in ARCHITECTURES and layout.paper == paper and codebase in layout.codebase


def test_legacy_cuda_checkpoint_loads_on_cpu_under_weights_only(tmp_path):
    """The format of Wong & Kolter's released models/fashion_mnist.pth, made here without a GPU."""
    state = {"0.weight": torch.arange(6.0).reshape(2, 3), "0.bias": torch.tensor([0.5, -1.0])}
    path = tmp_path / "fashion_mnist.pth"
    save_as_authors(state, path, "wong_kolter")
    data = path.read_bytes()
    assert data[:2] == b"\x80\x02" and b"PK\x03\x04" not in data[:4]  # a bare pickle, not a zip archive
    assert b"cuda:0" in data and b"cpu" not in data
    if not torch.cuda.is_available():  # what a user's plain torch.load does with it on a CPU machine
        with pytest.raises(RuntimeError, match="CUDA"):
            torch.load(path, weights_only=True)
    loaded = read_state_dict(path)
    assert loaded.keys() == state.keys() and all(torch.equal(loaded[k], state[k]) for k in state)
    assert all(t.device.type == "cpu" for t in loaded.values())


@pytest.mark.parametrize("legacy", [True, False])
def test_a_pickled_whole_model_is_refused_in_one_sentence(tmp_path, legacy):
    from robench.errors import CheckpointError
    from robench.models import create_model

    path = tmp_path / "model.pth"
    torch.save(create_model("wk_small_mnist", 10, 1), path, _use_new_zipfile_serialization=not legacy)
    with pytest.raises(CheckpointError) as info:
        read_state_dict(path)
    message = str(info.value)
    assert "\n" not in message and "save model.state_dict() or a safetensors file instead" in message
