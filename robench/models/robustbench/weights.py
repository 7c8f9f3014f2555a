"""RobustBench's key handling, mirrored from robustbench 1.1.1's ``utils.load_model`` and
``_safe_load_state_dict``, applied to objects robench read safely (robench.models.checkpoint:
``torch.load(weights_only=True)``, never a fallback to unpickling code).

For one file: ``checkpoint['last']`` for Kireev2021Effectiveness* and Andriushchenko2020Understanding;
``checkpoint['state_dict']`` when there is one, else the checkpoint; ``module.`` then ``model.`` removed
the way RobustBench's ``rm_substr_from_state_dict`` does it (every key *containing* the text loses that
many leading characters); for ImageNet, timm's Swin ``checkpoint_filter_fn`` on five Swin entries and a
``model.`` prefix added except on nine entries. For an ensemble, file ``i`` (``module.`` removed) goes
into member ``i`` (``models[i]``; Bai2023Improving's third file holds the policy network and its
BatchNorm; Bai2024MixedNUTS has a standard and a robust member). Loading is strict; where RobustBench
falls back to ``strict=False`` (its list of known failing models, or any ImageNet entry, on its five
failure messages) robench does too and says which keys it left out. The lists below are RobustBench's
(they live inside its function, so they cannot be imported); the identical-logits test
(tests/models/test_robustbench_logits.py) checks the mirror against ``robustbench.utils.load_model``.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path

import torch
from torch import nn

from robench.errors import CheckpointError
from robench.models.robustbench.entries import ZooEntry

LAST_CHECKPOINT = ("Andriushchenko2020Understanding",)  # and every Kireev2021Effectiveness* entry
SWIN_FILTERED = (
    "Liu2023Comprehensive_Swin-B",
    "Liu2023Comprehensive_Swin-L",
    "Mo2022When_Swin-B",
    "RodriguezMunoz2024Characterizing_Swin-B",
    "RodriguezMunoz2024Characterizing_Swin-L",
)
NO_MODEL_PREFIX = (
    "Singh2023Revisiting_ConvNeXt-T-ConvStem",
    "Singh2023Revisiting_ViT-B-ConvStem",
    "Singh2023Revisiting_ConvNeXt-S-ConvStem",
    "Singh2023Revisiting_ConvNeXt-B-ConvStem",
    "Singh2023Revisiting_ConvNeXt-L-ConvStem",
    "Peng2023Robust",
    "Chen2024Data_WRN_50_2",
    "Xu2024MIMIR_Swin-B",
    "Xu2024MIMIR_Swin-L",
)
KNOWN_FAILING = frozenset(
    {
        "Andriushchenko2020Understanding",
        "Augustin2020Adversarial",
        "Engstrom2019Robustness",
        "Pang2020Boosting",
        "Rice2020Overfitting",
        "Rony2019Decoupling",
        "Wong2020Fast",
        "Hendrycks2020AugMix_WRN",
        "Hendrycks2020AugMix_ResNeXt",
        "Kireev2021Effectiveness_Gauss50percent",
        "Kireev2021Effectiveness_AugMixNoJSD",
        "Kireev2021Effectiveness_RLAT",
        "Kireev2021Effectiveness_RLATAugMixNoJSD",
        "Kireev2021Effectiveness_RLATAugMix",
        "Chen2020Efficient",
        "Wu2020Adversarial",
        "Augustin2020Adversarial_34_10",
        "Augustin2020Adversarial_34_10_extra",
        "Diffenderfer2021Winning_LRR",
        "Diffenderfer2021Winning_LRR_CARD_Deck",
        "Diffenderfer2021Winning_Binary",
        "Diffenderfer2021Winning_Binary_CARD_Deck",
        "Huang2022Revisiting_WRN-A4",
        "Bai2024MixedNUTS",
    }
)
FAILURE_MESSAGES = (
    'Missing key(s) in state_dict: "mu", "sigma".',
    'Unexpected key(s) in state_dict: "model_preact_hl1.1.weight"',
    'Missing key(s) in state_dict: "normalize.mean", "normalize.std"',
    'Unexpected key(s) in state_dict: "conv1.scores"',
    'Missing key(s) in state_dict: "mean", "std".',
)
SHOWN = 3


def without(state: Mapping, text: str) -> OrderedDict:
    """RobustBench's ``rm_substr_from_state_dict``: a key containing ``text`` loses len(text) leading
    characters (a prefix in every zoo checkpoint; mirrored as written, wherever the text occurs)."""
    return OrderedDict((key[len(text) :] if text in key else key, value) for key, value in state.items())


def with_prefix(state: Mapping, prefix: str) -> OrderedDict:
    return OrderedDict((prefix + key, value) for key, value in state.items())


def _mapping(obj: object, source: Path, what: str = "a state dict") -> Mapping:
    if not isinstance(obj, Mapping):
        raise CheckpointError(f"{source} holds a {type(obj).__name__}, not {what} (a mapping of tensors)")
    return obj


def _keys(keys: list[str]) -> str:
    more = f", … {len(keys) - SHOWN} more" if len(keys) > SHOWN else ""
    return ", ".join(keys[:SHOWN]) + more


def _misfit(module: nn.Module, state: Mapping, entry: ZooEntry, source: Path) -> CheckpointError:
    """One sentence naming the missing, unexpected and mis-shaped keys."""
    expected = module.state_dict()
    found = {
        "missing": [k for k in expected if k not in state],
        "unexpected": [k for k in state if k not in expected],
        "mis-shaped (file vs model)": [
            f"{k} {tuple(state[k].shape)} vs {tuple(expected[k].shape)}"
            for k in state
            if k in expected and state[k].shape != expected[k].shape
        ],
    }
    parts = [f"{len(keys)} {kind} keys ({_keys(keys)})" for kind, keys in found.items() if keys]
    return CheckpointError(
        f"{source} does not fit RobustBench's {entry.id} ({entry.architecture}): {'; '.join(parts)}"
    )


def load_into(module: nn.Module, state: object, entry: ZooEntry, source: Path) -> list[str]:
    """RobustBench's ``_safe_load_state_dict``: strict, or not strict where it allows that; the notes
    say which keys a non-strict load left out."""
    state = _mapping(state, source)
    bad = [str(k) for k, v in state.items() if not isinstance(k, str) or not isinstance(v, torch.Tensor)]
    if bad:
        raise CheckpointError(f"{source}: entries {_keys(bad)} are not tensors; expected a state dict")
    try:
        module.load_state_dict(state, strict=True)
        return []
    except RuntimeError as exc:
        tolerated = entry.name in KNOWN_FAILING or entry.dataset == "imagenet"
        if not (tolerated and any(message in str(exc) for message in FAILURE_MESSAGES)):
            raise _misfit(module, state, entry, source) from None
    result = module.load_state_dict(state, strict=False)
    left = [f"missing {_keys(result.missing_keys)}"] if result.missing_keys else []
    left += [f"unused {_keys(result.unexpected_keys)}"] if result.unexpected_keys else []
    return [f"{source}: loaded as RobustBench does, not strictly ({'; '.join(left)})"]


def single_state(checkpoint: object, entry: ZooEntry, source: Path, model: nn.Module) -> Mapping:
    """The state dict RobustBench's loader makes of a one-file entry's checkpoint."""
    name = entry.name
    if "Kireev2021Effectiveness" in name or name in LAST_CHECKPOINT:
        checkpoint = _mapping(checkpoint, source, "a checkpoint with 'last'").get("last")
    checkpoint = _mapping(checkpoint, source)
    nested = checkpoint.get("state_dict")
    state = without(without(nested if isinstance(nested, Mapping) else checkpoint, "module."), "model.")
    if entry.dataset != "imagenet":
        return state
    if name in SWIN_FILTERED:
        try:  # RobustBench tries timm's filter and keeps the keys as they are if it fails
            from timm.models.swin_transformer import checkpoint_filter_fn

            state = checkpoint_filter_fn(state, model.model)
        except Exception:  # noqa: BLE001 - mirrors RobustBench's bare except
            pass
    return state if name in NO_MODEL_PREFIX else with_prefix(state, "model.")


def _swin_filtered(state: Mapping, model: nn.Module, source: Path) -> Mapping:
    """timm's Swin ``checkpoint_filter_fn`` (RobustBench applies it to MixedNUTS' ImageNet member)."""
    from timm.models.swin_transformer import checkpoint_filter_fn

    try:
        return checkpoint_filter_fn(state, model)
    except (KeyError, RuntimeError, ValueError) as exc:
        raise CheckpointError(f"{source}: timm's Swin key filter failed on it ({exc})") from None


def load_ensemble(
    model: nn.Module, checkpoints: list[object], entry: ZooEntry, paths: list[Path]
) -> list[str]:
    """File ``i`` of an ensemble into its member, as RobustBench's loader places it."""
    notes: list[str] = []
    for i, (checkpoint, path) in enumerate(zip(checkpoints, paths, strict=True)):
        checkpoint = _mapping(checkpoint, path)
        state = without(_mapping(checkpoint.get("state_dict", checkpoint), path), "module.")
        if entry.name.startswith("Bai2023Improving"):
            if i < 2:
                notes += load_into(model.comp_model.models[i], state, entry, path)
            else:
                notes += load_into(model.comp_model.policy_net, state.get("model"), entry, path)
                notes += load_into(model.comp_model.bn, state.get("bn"), entry, path)
        elif entry.name.startswith("Bai2024MixedNUTS"):
            member = "std_model" if i == 0 else "rob_model"
            if i == 1 and entry.dataset == "imagenet":
                state = with_prefix(_swin_filtered(state, model.rob_model.model, path), "model.")
            notes += load_into(getattr(model, member), state, entry, path)
        else:
            notes += load_into(model.models[i], state, entry, path)
    return notes
