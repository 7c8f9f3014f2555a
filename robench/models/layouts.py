"""The registered architectures as data: one row per checkpoint layout of the field's public codebases.

Each row names the codebase and paper whose layout it reproduces, what tells it apart, which other
layouts have the very same keys (so no key check can tell them apart: the user must name the layout),
the checkpoint keys its forward never uses, and the normalisation its authors' code applies inside.
``robench.models.ARCHITECTURES`` is registered from these rows and the docs' table is generated from
``layout_table()``. Importing this module imports no network code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ARCHS = "robench.models.archs"

# DeepMind's values (deepmind-research adversarial_robustness, RobustBench dm_wide_resnet.py)
DM_CIFAR10 = ((0.4914, 0.4822, 0.4465), (0.2471, 0.2435, 0.2616))
DM_CIFAR100 = ((0.5071, 0.4865, 0.4409), (0.2673, 0.2564, 0.2762))
DM_NORMALIZATION = {"cifar10": DM_CIFAR10, "cifar100": DM_CIFAR100}


@dataclass(frozen=True)
class Layout:
    name: str
    factory: str  # lazy "module:function"
    codebase: str
    paper: str
    distinguishes: str  # what its forward does that a neighbour's does not
    shares_keys_with: tuple[str, ...] = ()  # same keys and shapes, different function
    members: tuple[str, ...] = ()  # a family name: the layouts it may mean (a fresh model is the first)
    unused_prefixes: tuple[str, ...] = ()  # checkpoint keys its authors' forward never reads
    normalization: dict[str, tuple[tuple[float, ...], tuple[float, ...]]] = field(default_factory=dict)
    generic: str | None = None  # the option-taking layout this row is a setting of
    settings: dict[str, Any] = field(default_factory=dict)  # ... and those settings
    input_size: int = 32  # the resolution it is built for

    @property
    def is_family(self) -> bool:
        return bool(self.members)


_RICE = "1x1 projection shortcut from relu(bn1(x)); relu(bn(.)) before pooling"
_WONG = "1x1 projection shortcut from the block input x; relu(bn(.)) before pooling"
_WRN = "pre-activation blocks, 1x1 convShortcut from relu(bn1(x)); keys block1.layer.0.conv1, bn1, fc"
_TRADES = "the wide_resnet function; its checkpoints also hold sub_block1.*, a block forward never uses"
_DM_WRN = (
    "keys init_conv, layer.g.block.i, logits; TF 'SAME' padding (0,1,0,1) before stride-2 convs; "
    "activation not in the checkpoint; normalises inside with DeepMind's mean/std"
)
_DM_PRN = (
    "keys conv_2d, layer_k.i, logits; 3x3 projection shortcut from the un-activated x, TF 'SAME' padding; "
    "activation not in the checkpoint; normalises inside with DeepMind's mean/std"
)
_RB = "RobustBench/robustbench model_zoo/architectures"
_CA = "locuslab/convex_adversarial examples/problems.py"
_WK_PAPER = "Wong & Kolter 2018"
_WK_SMALL = "nn.Sequential conv16 4x4/2, conv32 4x4/2 (padding 1), fc100, fc; keys 0, 2, 5, 7"
_WK_LARGE = "nn.Sequential conv32 3x3, conv32 4x4/2, conv64 3x3, conv64 4x4/2, fc512, fc512, fc; keys 0-13"
_IBP = "deepmind/interval-bound-propagation examples/train.py layers()"
_IBP_PAPER = "Gowal et al. 2018"
_IBP_SIDE = "nn.Sequential keys by position; option input_size (28 MNIST, 32 CIFAR-10)"
_DM = "deepmind-research adversarial_robustness/pytorch/model_zoo.py; " + _RB + "/dm_wide_resnet.py"

LAYOUTS: tuple[Layout, ...] = (
    Layout("small_cnn", f"{ARCHS}.small_cnn:small_cnn", "robench", "-",
           "two 3x3 convs and an MLP head, for 8x8 digits and 28x28 MNIST", input_size=8),
    Layout("wk_small_mnist", f"{ARCHS}.wong_kolter:wk_small_mnist", _CA + " mnist_model", _WK_PAPER,
           _WK_SMALL + "; 28x28 inputs (MNIST, Fashion-MNIST)", input_size=28),
    Layout("wk_large_mnist", f"{ARCHS}.wong_kolter:wk_large_mnist", _CA + " mnist_model_large", _WK_PAPER,
           _WK_LARGE + "; 28x28 inputs", input_size=28),
    Layout("wk_small_cifar", f"{ARCHS}.wong_kolter:wk_small_cifar", _CA + " cifar_model (= svhn_model)",
           _WK_PAPER, _WK_SMALL + "; 32x32 inputs (CIFAR-10, SVHN)"),
    Layout("wk_large_cifar", f"{ARCHS}.wong_kolter:wk_large_cifar", _CA + " cifar_model_large", _WK_PAPER,
           _WK_LARGE + "; 32x32 inputs"),
    Layout("ibp_small", f"{ARCHS}.dm_ibp:ibp_small", _IBP + " 'small'", _IBP_PAPER,
           "conv16 4x4/2, conv32 4x4/1 without padding, fc100, fc; " + _IBP_SIDE, input_size=28),
    Layout("ibp_medium", f"{ARCHS}.dm_ibp:ibp_medium", _IBP + " 'medium'", _IBP_PAPER,
           "conv32 3x3, conv32 4x4/2, conv64 3x3, conv64 4x4/2 without padding, fc512, fc512, fc; "
           + _IBP_SIDE, input_size=28),
    Layout("ibp_large", f"{ARCHS}.dm_ibp:ibp_large",
           _IBP + " 'large'; huanzhang12/CROWN-IBP model_defs_gowal.py IBP_large ('dm-large')", _IBP_PAPER,
           "conv64 3x3 x2, conv128 3x3/2, conv128 3x3 x2, padding 1, fc512, fc; " + _IBP_SIDE,
           input_size=28),
    Layout("resnet18", f"{ARCHS}.resnet:resnet18",
           "kuangliu/pytorch-cifar; " + _RB + "/resnet.py ResNet18; MadryLab/robustness cifar_models",
           "He et al. 2016", "post-activation BasicBlocks, 3x3 stem, no max-pool; keys shortcut.0/1, linear"),
    Layout("resnet50", f"{ARCHS}.resnet:resnet50",
           "MadryLab/robustness cifar_models.resnet50; " + _RB + "/resnet.py ResNet(Bottleneck, [3,4,6,3])",
           "Engstrom et al. 2019 (robustness library)",
           "Bottleneck blocks (conv3, bn3), 3x3 stem, no max-pool; keys shortcut.0/1, linear"),
    Layout("preact_resnet18", f"{ARCHS}.preact_resnet:preact_resnet18", "robench (family name)", "-",
           "a family name: a fresh model is preact_resnet18_rice; a checkpoint must name its layout",
           members=("preact_resnet18_rice", "preact_resnet18_wong")),
    Layout("preact_resnet18_rice", f"{ARCHS}.preact_resnet:preact_resnet18_rice",
           "locuslab/robust_overfitting preactresnet.py; " + _RB
           + "/resnet.py PreActBlockV2, bn_before_fc=True",
           "Rice et al. 2020", _RICE, shares_keys_with=("preact_resnet18_wong",),
           generic="preact_resnet", settings={"depth": 18, "shortcut_from": "activation", "final_bn": True}),
    Layout("preact_resnet18_wong", f"{ARCHS}.preact_resnet:preact_resnet18_wong",
           "locuslab/fast_adversarial CIFAR10/preact_resnet.py; " + _RB + "/resnet.py PreActBlock, "
           "bn_before_fc=True", "Wong et al. 2020", _WONG, shares_keys_with=("preact_resnet18_rice",),
           generic="preact_resnet", settings={"depth": 18, "shortcut_from": "input", "final_bn": True}),
    Layout("preact_resnet18_wong_nobn", f"{ARCHS}.preact_resnet:preact_resnet18_wong_nobn",
           _RB + "/resnet.py PreActResNet(PreActBlock, [2,2,2,2]) "
           "(Wong2020Fast, Andriushchenko2020Understanding)",
           "Wong et al. 2020 (RobustBench entry)",
           "shortcut from the block input x; no final BatchNorm and no ReLU before pooling (no bn.* keys)",
           generic="preact_resnet", settings={"depth": 18, "shortcut_from": "input", "final_bn": False}),
    Layout("preact_resnet", f"{ARCHS}.preact_resnet:preact_resnet", _RB + "/resnet.py PreActResNet switches",
           "-", "options depth (18, 34), shortcut_from ('activation' | 'input'), final_bn (true | false)"),
    Layout("wide_resnet", f"{ARCHS}.wide_resnet:wide_resnet",
           "locuslab/robust_overfitting wideresnet.py; " + _RB
           + "/wide_resnet.py WideResNet(sub_block1=False)",
           "Zagoruyko & Komodakis 2016; Madry et al. 2018; Rice et al. 2020",
           _WRN + "; options depth, width, dropout, fc_bias"),
    Layout("wrn_28_10", f"{ARCHS}.wide_resnet:wrn_28_10", "as wide_resnet", "Zagoruyko & Komodakis 2016",
           _WRN, generic="wide_resnet", settings={"depth": 28, "width": 10}),
    Layout("wrn_34_10", f"{ARCHS}.wide_resnet:wrn_34_10", "as wide_resnet", "Madry et al. 2018",
           _WRN, generic="wide_resnet", settings={"depth": 34, "width": 10}),
    Layout("wide_resnet_trades", f"{ARCHS}.wide_resnet:wide_resnet_trades",
           "yaodongyu/TRADES models/wideresnet.py; yaircarmon/semisup-adv models/wideresnet.py; "
           + _RB + "/wide_resnet.py WideResNet(sub_block1=True)", "Zhang et al. 2019; Carmon et al. 2019",
           _TRADES + "; options depth, width, fc_bias", unused_prefixes=("sub_block1.",)),
    Layout("wrn_28_10_trades", f"{ARCHS}.wide_resnet:wrn_28_10_trades", "as wide_resnet_trades",
           "Carmon et al. 2019", _TRADES, unused_prefixes=("sub_block1.",),
           generic="wide_resnet_trades", settings={"depth": 28, "width": 10}),
    Layout("wrn_34_10_trades", f"{ARCHS}.wide_resnet:wrn_34_10_trades", "as wide_resnet_trades",
           "Zhang et al. 2019", _TRADES, unused_prefixes=("sub_block1.",),
           generic="wide_resnet_trades", settings={"depth": 34, "width": 10}),
    Layout("dm_wide_resnet", f"{ARCHS}.dm_wide_resnet:dm_wide_resnet", _DM + " DMWideResNet",
           "Gowal et al. 2020; Rebuffi et al. 2021", _DM_WRN + "; options depth, width, activation",
           normalization=DM_NORMALIZATION),
    Layout("dm_wrn_28_10", f"{ARCHS}.dm_wide_resnet:dm_wrn_28_10", "as dm_wide_resnet (Swish)",
           "Gowal et al. 2020; Rebuffi et al. 2021", _DM_WRN, normalization=DM_NORMALIZATION,
           generic="dm_wide_resnet", settings={"depth": 28, "width": 10, "activation": "swish"}),
    Layout("dm_wrn_70_16", f"{ARCHS}.dm_wide_resnet:dm_wrn_70_16", "as dm_wide_resnet (Swish)",
           "Gowal et al. 2020; Rebuffi et al. 2021", _DM_WRN, normalization=DM_NORMALIZATION,
           generic="dm_wide_resnet", settings={"depth": 70, "width": 16, "activation": "swish"}),
    Layout("dm_preact_resnet", f"{ARCHS}.dm_preact_resnet:dm_preact_resnet", _DM + " DMPreActResNet",
           "Rebuffi et al. 2021; Gowal et al. 2021", _DM_PRN + "; options depth (18, 34), activation",
           normalization=DM_NORMALIZATION),
    Layout("dm_preact_resnet18", f"{ARCHS}.dm_preact_resnet:dm_preact_resnet18",
           "as dm_preact_resnet (Swish)",
           "Rebuffi et al. 2021; Gowal et al. 2021", _DM_PRN, normalization=DM_NORMALIZATION,
           generic="dm_preact_resnet", settings={"depth": 18, "activation": "swish"}),
    Layout("torchvision_resnet18", f"{ARCHS}.torchvision_resnet:torchvision_resnet18",
           "pytorch/vision torchvision.models.resnet18", "He et al. 2016",
           "ImageNet layout: 7x7 stem, max-pool, downsample shortcuts, fc head", input_size=224),
    Layout("torchvision_resnet50", f"{ARCHS}.torchvision_resnet:torchvision_resnet50",
           "pytorch/vision torchvision.models.resnet50; MadryLab/robustness imagenet_models.resnet50",
           "He et al. 2016; Engstrom et al. 2019 (ImageNet)",
           "ImageNet layout: 7x7 stem, max-pool, Bottleneck, downsample shortcuts, fc head", input_size=224),
)  # fmt: skip

_BY_NAME = {entry.name: entry for entry in LAYOUTS}


def find_layout(name: str | None) -> Layout | None:
    """The row of a registered name; None for user code or an unknown name."""
    return _BY_NAME.get(name) if name else None


def concrete_layout(name: str) -> str:
    """The layout a fresh model of ``name`` is built in: a family name's first member, else the name."""
    entry = find_layout(name)
    return entry.members[0] if entry is not None and entry.is_family else name


def named_setting(generic: str, options: dict[str, Any]) -> str | None:
    """The registered name of ``generic`` with exactly these options (e.g. wide_resnet 34/10 -> wrn_34_10)."""
    for entry in LAYOUTS:
        if entry.generic == generic and entry.settings == options:
            return entry.name
    return None


def layout_table() -> list[dict[str, str]]:
    """Rows for the docs: name, codebase, paper, what distinguishes it, the layouts it shares keys with."""
    return [
        {
            "name": entry.name,
            "codebase": entry.codebase,
            "paper": entry.paper,
            "distinguishes": entry.distinguishes,
            "shares_keys_with": ", ".join(entry.shares_keys_with or entry.members),
        }
        for entry in LAYOUTS
    ]
