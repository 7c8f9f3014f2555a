"""Random weights for RobustBench zoo entries, saved in RobustBench's own file layout (the inverse of its
loader's key handling), so that robench's loader and ``robustbench.utils.load_model`` can both read them.

Every tensor is the freshly built model's own value perturbed from a seeded generator (running variances
kept positive), so a key either loader failed to load would keep its random initial value and show as a
difference. Entries RobustBench loads non-strictly (its known failing models) get files without their
normalisation buffers, as their real files are.
"""

from __future__ import annotations

import importlib.util
import os
import warnings
from pathlib import Path

import pytest
import torch
from torch import nn

NORMALISATION = ("mu", "sigma", "mean", "std", "normalize.mean", "normalize.std")

needs_robustbench = pytest.mark.skipif(
    importlib.util.find_spec("robustbench") is None, reason="the robustbench extra is not installed"
)


def perturbed(state: dict[str, torch.Tensor], seed: int) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    out = {}
    for key, value in state.items():
        if not value.is_floating_point():
            out[key] = value.clone()
        elif key.endswith("running_var"):
            out[key] = torch.rand(value.shape, generator=generator) + 0.5
        else:
            noise = torch.randn(value.shape, generator=generator)
            out[key] = value * (1 + 0.1 * noise) + 0.01 * torch.randn(value.shape, generator=generator)
    return out


def file_key(key: str) -> str:
    """The key a file holds so that RobustBench's ``module.`` then ``model.`` removal gives ``key``."""
    if "model." not in key:
        return "module." + key
    return ("module." if "module." in key else "") + "model." + key


def build(entry) -> nn.Module:
    """The entry's module with its constructor's random weights (timm entries without pretrained weights;
    a torchvision entry: the torchvision network its constructor loads weights into)."""
    import timm
    import torchvision.models

    from robench.models.robustbench.entries import TORCHVISION_WEIGHTS
    from robench.models.robustbench.load import weights_only_loads

    with weights_only_loads(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if entry.kind == "timm":
            return timm.create_model(entry.timm_name, num_classes=entry.num_classes, pretrained=False)
        if entry.kind == "torchvision":  # ResNet50_Weights -> resnet50
            return getattr(
                torchvision.models, TORCHVISION_WEIGHTS[entry.name][0].removesuffix("_Weights").lower()
            )()
        return entry.spec["model"]()


def inner(module: nn.Module) -> nn.Module:
    """The network inside RobustBench's ``normalize_model`` wrapper (or the module itself)."""
    return module.model if isinstance(module, nn.Sequential) and hasattr(module, "model") else module


def file_contents(entry, module: nn.Module, seed: int) -> list[object]:
    """What each of the entry's files holds, as RobustBench's loader expects it."""
    from robench.models.robustbench.weights import KNOWN_FAILING, NO_MODEL_PREFIX

    if entry.kind in ("timm", "torchvision"):
        state = perturbed(inner(module).state_dict(), seed)
        return [{"model": state} if entry.kind == "timm" else state]
    if entry.kind == "ensemble":
        members = [perturbed(m.state_dict(), seed + i) for i, m in enumerate(module.models)]
        return [{"state_dict": {"module." + k: v for k, v in m.items()}} for m in members]
    state = perturbed(module.state_dict(), seed)
    if entry.name in KNOWN_FAILING:
        state = {k: v for k, v in state.items() if k not in NORMALISATION}
    if entry.dataset == "imagenet" and entry.name not in NO_MODEL_PREFIX:
        state = {k.removeprefix("model."): v for k, v in state.items() if k.startswith("model.")}
    contents = {"state_dict": {file_key(k): v for k, v in state.items()}}
    if "Kireev2021Effectiveness" in entry.name or entry.name == "Andriushchenko2020Understanding":
        contents = {"last": contents}
    return [contents]


def write_entry(entry, model_dir: Path, seed: int = 0) -> list[Path]:
    """Save random weights for ``entry`` where RobustBench keeps them (set TORCH_HOME for hub files)."""
    paths = entry.weight_files(model_dir)
    with torch.random.fork_rng():
        torch.manual_seed(seed)  # the constructor's own initialisation too: the same weights every run
        module = build(entry)
    for path, contents in zip(paths, file_contents(entry, module, seed), strict=True):
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save(contents, path)
    return paths


@pytest.fixture
def torch_home(tmp_path, monkeypatch):
    """A private torch hub cache (timm and torchvision entries keep their weights there)."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    assert os.environ["TORCH_HOME"]
    return tmp_path / "torch"
