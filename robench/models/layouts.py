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
    name: str  # also the name of its factory function in ``module``
    module: str  # the module of robench.models.archs that defines the factory
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
    def factory(self) -> str:
        """The lazy "module:function" that builds it."""
        return f"{ARCHS}.{self.module}:{self.name}"

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
    Layout(
        name="small_cnn",
        module="small_cnn",
        codebase="robench",
        paper="-",
        distinguishes="two 3x3 convs and an MLP head, for 8x8 digits and 28x28 MNIST",
        input_size=8,
    ),
    Layout(
        name="wk_small_mnist",
        module="wong_kolter",
        codebase=_CA + " mnist_model",
        paper=_WK_PAPER,
        distinguishes=_WK_SMALL + "; 28x28 inputs (MNIST, Fashion-MNIST)",
        input_size=28,
    ),
    Layout(
        name="wk_large_mnist",
        module="wong_kolter",
        codebase=_CA + " mnist_model_large",
        paper=_WK_PAPER,
        distinguishes=_WK_LARGE + "; 28x28 inputs",
        input_size=28,
    ),
    Layout(
        name="wk_small_cifar",
        module="wong_kolter",
        codebase=_CA + " cifar_model (= svhn_model)",
        paper=_WK_PAPER,
        distinguishes=_WK_SMALL + "; 32x32 inputs (CIFAR-10, SVHN)",
    ),
    Layout(
        name="wk_large_cifar",
        module="wong_kolter",
        codebase=_CA + " cifar_model_large",
        paper=_WK_PAPER,
        distinguishes=_WK_LARGE + "; 32x32 inputs",
    ),
    Layout(
        name="ibp_small",
        module="dm_ibp",
        codebase=_IBP + " 'small'",
        paper=_IBP_PAPER,
        distinguishes="conv16 4x4/2, conv32 4x4/1 without padding, fc100, fc; " + _IBP_SIDE,
        input_size=28,
    ),
    Layout(
        name="ibp_medium",
        module="dm_ibp",
        codebase=_IBP + " 'medium'",
        paper=_IBP_PAPER,
        distinguishes="conv32 3x3, conv32 4x4/2, conv64 3x3, conv64 4x4/2 without padding, fc512, fc512, fc; "
        + _IBP_SIDE,
        input_size=28,
    ),
    Layout(
        name="ibp_large",
        module="dm_ibp",
        codebase=_IBP + " 'large'; huanzhang12/CROWN-IBP model_defs_gowal.py IBP_large ('dm-large')",
        paper=_IBP_PAPER,
        distinguishes="conv64 3x3 x2, conv128 3x3/2, conv128 3x3 x2, padding 1, fc512, fc; " + _IBP_SIDE,
        input_size=28,
    ),
    Layout(
        name="resnet18",
        module="resnet",
        codebase="kuangliu/pytorch-cifar; " + _RB + "/resnet.py ResNet18; MadryLab/robustness cifar_models",
        paper="He et al. 2016",
        distinguishes="post-activation BasicBlocks, 3x3 stem, no max-pool; keys shortcut.0/1, linear",
    ),
    Layout(
        name="resnet50",
        module="resnet",
        codebase="MadryLab/robustness cifar_models.resnet50; "
        + _RB
        + "/resnet.py ResNet(Bottleneck, [3,4,6,3])",
        paper="Engstrom et al. 2019 (robustness library)",
        distinguishes="Bottleneck blocks (conv3, bn3), 3x3 stem, no max-pool; keys shortcut.0/1, linear",
    ),
    Layout(
        name="preact_resnet18",
        module="preact_resnet",
        codebase="robench (family name)",
        paper="-",
        distinguishes=(
            "a family name: a fresh model is preact_resnet18_rice; a checkpoint must name its layout"
        ),
        members=("preact_resnet18_rice", "preact_resnet18_wong"),
    ),
    Layout(
        name="preact_resnet18_rice",
        module="preact_resnet",
        codebase="locuslab/robust_overfitting preactresnet.py; "
        + _RB
        + "/resnet.py PreActBlockV2, bn_before_fc=True",
        paper="Rice et al. 2020",
        distinguishes=_RICE,
        shares_keys_with=("preact_resnet18_wong",),
        generic="preact_resnet",
        settings={"depth": 18, "shortcut_from": "activation", "final_bn": True},
    ),
    Layout(
        name="preact_resnet18_wong",
        module="preact_resnet",
        codebase="locuslab/fast_adversarial CIFAR10/preact_resnet.py; " + _RB + "/resnet.py PreActBlock, "
        "bn_before_fc=True",
        paper="Wong et al. 2020",
        distinguishes=_WONG,
        shares_keys_with=("preact_resnet18_rice",),
        generic="preact_resnet",
        settings={"depth": 18, "shortcut_from": "input", "final_bn": True},
    ),
    Layout(
        name="preact_resnet18_wong_nobn",
        module="preact_resnet",
        codebase=_RB + "/resnet.py PreActResNet(PreActBlock, [2,2,2,2]) "
        "(Wong2020Fast, Andriushchenko2020Understanding)",
        paper="Wong et al. 2020 (RobustBench entry)",
        distinguishes=(
            "shortcut from the block input x; no final BatchNorm and no ReLU before pooling (no bn.* keys)"
        ),
        generic="preact_resnet",
        settings={"depth": 18, "shortcut_from": "input", "final_bn": False},
    ),
    Layout(
        name="preact_resnet",
        module="preact_resnet",
        codebase=_RB + "/resnet.py PreActResNet switches",
        paper="-",
        distinguishes=(
            "options depth (18, 34), shortcut_from ('activation' | 'input'), final_bn (true | false)"
        ),
    ),
    Layout(
        name="wide_resnet",
        module="wide_resnet",
        codebase="locuslab/robust_overfitting wideresnet.py; "
        + _RB
        + "/wide_resnet.py WideResNet(sub_block1=False)",
        paper="Zagoruyko & Komodakis 2016; Madry et al. 2018; Rice et al. 2020",
        distinguishes=_WRN + "; options depth, width, dropout, fc_bias",
    ),
    Layout(
        name="wrn_28_10",
        module="wide_resnet",
        codebase="as wide_resnet",
        paper="Zagoruyko & Komodakis 2016",
        distinguishes=_WRN,
        generic="wide_resnet",
        settings={"depth": 28, "width": 10},
    ),
    Layout(
        name="wrn_34_10",
        module="wide_resnet",
        codebase="as wide_resnet",
        paper="Madry et al. 2018",
        distinguishes=_WRN,
        generic="wide_resnet",
        settings={"depth": 34, "width": 10},
    ),
    Layout(
        name="wide_resnet_trades",
        module="wide_resnet",
        codebase="yaodongyu/TRADES models/wideresnet.py; yaircarmon/semisup-adv models/wideresnet.py; "
        + _RB
        + "/wide_resnet.py WideResNet(sub_block1=True)",
        paper="Zhang et al. 2019; Carmon et al. 2019",
        distinguishes=_TRADES + "; options depth, width, fc_bias",
        unused_prefixes=("sub_block1.",),
    ),
    Layout(
        name="wrn_28_10_trades",
        module="wide_resnet",
        codebase="as wide_resnet_trades",
        paper="Carmon et al. 2019",
        distinguishes=_TRADES,
        unused_prefixes=("sub_block1.",),
        generic="wide_resnet_trades",
        settings={"depth": 28, "width": 10},
    ),
    Layout(
        name="wrn_34_10_trades",
        module="wide_resnet",
        codebase="as wide_resnet_trades",
        paper="Zhang et al. 2019",
        distinguishes=_TRADES,
        unused_prefixes=("sub_block1.",),
        generic="wide_resnet_trades",
        settings={"depth": 34, "width": 10},
    ),
    Layout(
        name="dm_wide_resnet",
        module="dm_wide_resnet",
        codebase=_DM + " DMWideResNet",
        paper="Gowal et al. 2020; Rebuffi et al. 2021",
        distinguishes=_DM_WRN + "; options depth, width, activation",
        normalization=DM_NORMALIZATION,
    ),
    Layout(
        name="dm_wrn_28_10",
        module="dm_wide_resnet",
        codebase="as dm_wide_resnet (Swish)",
        paper="Gowal et al. 2020; Rebuffi et al. 2021",
        distinguishes=_DM_WRN,
        normalization=DM_NORMALIZATION,
        generic="dm_wide_resnet",
        settings={"depth": 28, "width": 10, "activation": "swish"},
    ),
    Layout(
        name="dm_wrn_70_16",
        module="dm_wide_resnet",
        codebase="as dm_wide_resnet (Swish)",
        paper="Gowal et al. 2020; Rebuffi et al. 2021",
        distinguishes=_DM_WRN,
        normalization=DM_NORMALIZATION,
        generic="dm_wide_resnet",
        settings={"depth": 70, "width": 16, "activation": "swish"},
    ),
    Layout(
        name="dm_preact_resnet",
        module="dm_preact_resnet",
        codebase=_DM + " DMPreActResNet",
        paper="Rebuffi et al. 2021; Gowal et al. 2021",
        distinguishes=_DM_PRN + "; options depth (18, 34), activation",
        normalization=DM_NORMALIZATION,
    ),
    Layout(
        name="dm_preact_resnet18",
        module="dm_preact_resnet",
        codebase="as dm_preact_resnet (Swish)",
        paper="Rebuffi et al. 2021; Gowal et al. 2021",
        distinguishes=_DM_PRN,
        normalization=DM_NORMALIZATION,
        generic="dm_preact_resnet",
        settings={"depth": 18, "activation": "swish"},
    ),
    Layout(
        name="torchvision_resnet18",
        module="torchvision_resnet",
        codebase="pytorch/vision torchvision.models.resnet18",
        paper="He et al. 2016",
        distinguishes="ImageNet layout: 7x7 stem, max-pool, downsample shortcuts, fc head",
        input_size=224,
    ),
    Layout(
        name="torchvision_resnet50",
        module="torchvision_resnet",
        codebase="pytorch/vision torchvision.models.resnet50; MadryLab/robustness imagenet_models.resnet50",
        paper="He et al. 2016; Engstrom et al. 2019 (ImageNet)",
        distinguishes="ImageNet layout: 7x7 stem, max-pool, Bottleneck, downsample shortcuts, fc head",
        input_size=224,
    ),
)

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
