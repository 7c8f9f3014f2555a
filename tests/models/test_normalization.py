"""The one normalisation rule: explicit or card > checkpoint buffers > the architecture's own > none (with
a warning where the dataset is usually normalised); checkpoint buffers must agree with what is given."""

from __future__ import annotations

import dataclasses
import warnings

import pytest
import torch

from robench.errors import CheckpointError, RobenchError
from robench.models import create_model
from robench.models.cards import ModelCard, load_card, write_card
from robench.models.checkpoint import save_checkpoint, sha256_file
from robench.models.loading import load_model

C10 = ((0.4914, 0.4822, 0.4465), (0.2471, 0.2435, 0.2616))


class Dataset:
    def __init__(self, name, mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0)):
        self.name, self.mean, self.std = name, mean, std


CIFAR10 = Dataset("cifar10", (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616))  # robench's values


@pytest.fixture(scope="module")
def net_state():
    torch.manual_seed(0)
    return create_model("small_cnn", num_classes=10, in_channels=3, width=4).state_dict()


def _save(tmp_path, state, **buffers) -> str:
    path = tmp_path / "net.pt"
    torch.save({**state, **{k: torch.tensor(v).view(1, -1, 1, 1) for k, v in buffers.items()}}, path)
    return path


def _load(path, **kwargs):
    kwargs.setdefault("arch_kwargs", {"width": 4})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loaded = load_model(checkpoint=path, arch=kwargs.pop("arch", "small_cnn"), num_classes=10, **kwargs)
    return loaded, [str(w.message) for w in caught]


def test_checkpoint_buffers_are_applied_when_nothing_is_given(tmp_path, net_state):
    path = _save(tmp_path, net_state, mu=C10[0], sigma=C10[1])
    loaded, caught = _load(path, dataset=CIFAR10)
    net = create_model("small_cnn", num_classes=10, in_channels=3, width=4).eval()
    net.load_state_dict(net_state)
    x = torch.rand(2, 3, 8, 8)
    mean, std = (torch.tensor(v).view(1, 3, 1, 1) for v in C10)
    with torch.no_grad():
        torch.testing.assert_close(loaded.module(x), net((x - mean) / std))
    assert loaded.normalization.source == "checkpoint"
    assert loaded.normalization.detail == "RobustBench mu/sigma buffers"
    (note,) = caught  # said once, as a note
    assert (
        note
        == f"{path}: robench applies its normalisation before the network, {loaded.normalization.describe()}"
    )


def test_explicit_values_must_agree_with_the_buffers(tmp_path, net_state):
    path = _save(tmp_path, net_state, mean=C10[0], std=C10[1])
    loaded, _ = _load(path, mean=list(C10[0]), std=list(C10[1]))
    assert loaded.normalization.source == "explicit"
    assert loaded.normalization.detail == "agrees with the checkpoint's mean/std buffers"
    with pytest.raises(CheckpointError) as info:
        _load(path, mean=list(CIFAR10.mean), std=list(CIFAR10.std))  # 0.2470 is not 0.2471
    assert str(info.value) == (
        f"{path} carries its normalisation (mean/std buffers: mean 0.4914,0.4822,0.4465 std "
        "0.2471,0.2435,0.2616) but the --mean/--std values are mean 0.4914,0.4822,0.4465 std "
        "0.247,0.2435,0.2616; they must agree (fix one, or give none to use the checkpoint's)"
    )


def test_card_values_must_agree_with_the_buffers(tmp_path, net_state):
    path = _save(tmp_path, net_state, mu=C10[0], sigma=C10[1])
    card = ModelCard(
        name="c10", architecture="small_cnn", dataset="cifar10", num_classes=10, threat="linf",
        eps=8 / 255, mean=[0.0] * 3, std=[1.0] * 3, checkpoint=path.name, sha256=sha256_file(path),
        arch_kwargs={"width": 4},
    )  # fmt: skip
    card = load_card(write_card(card, tmp_path / "c10.toml"))
    with pytest.raises(
        CheckpointError, match="but the card's values are mean 0,0,0 std 1,1,1; they must agree"
    ):
        load_model(card)
    good = load_card(write_card(dataclasses.replace(card, mean=list(C10[0]), std=list(C10[1])), card.path))
    assert load_model(good).normalization.source == "card"


def test_none_given_warns_where_the_dataset_is_usually_normalised(tmp_path, net_state):
    path = _save(tmp_path, net_state)
    loaded, caught = _load(path, dataset=CIFAR10)
    assert loaded.normalization.source == "none" and loaded.normalization.is_identity
    assert loaded.module.__class__.__name__ == "Sequential"  # nothing wrapped around the network
    (message,) = caught
    assert message.startswith(f"no normalisation given for {path}: robench applies none")
    assert "cifar10 models are often trained on normalised inputs (mean 0.4914,0.4822,0.4465" in message
    _, silent = _load(path, dataset=Dataset("digits", (0.0,), (1.0,)))
    assert silent == []


def test_the_architectures_own_values_need_a_known_dataset(tmp_path):
    torch.manual_seed(0)
    options = {"depth": 10, "width": 1, "activation": "swish"}
    path = tmp_path / "dm.safetensors"
    save_checkpoint(create_model("dm_wide_resnet", **options), path)
    with pytest.raises(RobenchError) as info:
        _load(path, arch="dm_wide_resnet", arch_kwargs=options, dataset=Dataset("svhn"))
    assert str(info.value) == (
        "architecture 'dm_wide_resnet' normalises its input inside its authors' code, with values robench "
        "knows for cifar10, cifar100 only; give its mean/std (--mean/--std or the card) for dataset 'svhn'"
    )
    loaded, caught = _load(path, arch="dm_wide_resnet", arch_kwargs=options, mean=[0.5] * 3, std=[0.5] * 3,
                           dataset=CIFAR10)  # fmt: skip
    assert loaded.normalization.source == "explicit"  # the caller's values win, and robench says so
    assert (
        caught
        and "differ from the values dm_wide_resnet's authors' code normalises cifar10 with" in caught[0]
    )


def test_buffers_of_the_network_itself_are_not_taken(tmp_path, monkeypatch):
    """A user's network with its own persistent ``mean``/``std`` buffers keeps them."""
    (tmp_path / "own_norm.py").write_text(
        "import torch\n"
        "class Net(torch.nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.register_buffer('mean', torch.full((1, 3, 1, 1), 0.5))\n"
        "        self.register_buffer('std', torch.full((1, 3, 1, 1), 0.5))\n"
        "        self.fc = torch.nn.Linear(3, 2)\n"
        "    def forward(self, x):\n"
        "        return self.fc(((x - self.mean) / self.std).mean((2, 3)))\n"
        "def make():\n"
        "    return Net()\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    import own_norm

    torch.save(own_norm.make().state_dict(), tmp_path / "own.pt")
    loaded = load_model(checkpoint=tmp_path / "own.pt", arch="own_norm:make", num_classes=2)
    assert loaded.normalization.source == "none" and float(loaded.module.mean.flatten()[0]) == 0.5


def test_a_network_that_normalises_itself_never_gets_the_buffers_twice(tmp_path, monkeypatch):
    """Non-persistent ``mean``/``std`` (DeepMind's code): the network applies them itself, so the file's
    copy is refused rather than applied a second time."""
    (tmp_path / "self_norm.py").write_text(
        "import torch\n"
        "class Net(torch.nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.register_buffer('mean', torch.full((1, 3, 1, 1), 0.5), persistent=False)\n"
        "        self.register_buffer('std', torch.full((1, 3, 1, 1), 0.5), persistent=False)\n"
        "        self.fc = torch.nn.Linear(3, 2)\n"
        "    def forward(self, x):\n"
        "        return self.fc(((x - self.mean) / self.std).mean((2, 3)))\n"
        "def make():\n"
        "    return Net()\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    import self_norm

    net = self_norm.make()
    torch.save({**net.state_dict(), "mean": net.mean, "std": net.std}, tmp_path / "old.pt")
    with pytest.raises(CheckpointError, match="2 unexpected keys \\(mean, std\\)"):
        load_model(checkpoint=tmp_path / "old.pt", arch="self_norm:make", num_classes=2)
