"""Deliberately broken models for the diagnostics tests, each a working digits CNN with one defect.

``BrokenCNN`` is an ``nn.Sequential`` with small_cnn's layers (so small_cnn checkpoints load into it)
and one defect in its forward: ``round`` quantises the input to 4 levels, ``detach`` cuts the graph,
``numpy`` quantises in numpy (outside torch), ``scale`` multiplies the logits by 1e4, ``softmax``
returns probabilities, ``dropout`` keeps dropout (p 0.5) active at test time on the penultimate
features, ``nan`` returns NaN off the digits' 1/16 pixel grid (i.e. on every perturbed input).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from robench.models.archs.small_cnn import small_cnn
from robench.threat import ThreatModel

THREAT = ThreatModel("linf", 0.3)
DEFECTS = ("round", "detach", "numpy", "scale", "softmax", "dropout", "nan")


class BrokenCNN(nn.Sequential):
    def __init__(self, *layers: nn.Module, defect: str) -> None:
        super().__init__(*layers)
        self.defect = defect
        self.eval()

    @classmethod
    def of(cls, net: nn.Sequential, defect: str) -> BrokenCNN:
        """The same layers (shared parameters) as ``net``, with the defect."""
        return cls(*net.children(), defect=defect)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        inputs = x
        if self.defect == "round":
            x = torch.round(x * 4) / 4
        if self.defect == "detach":
            x = x.detach()
        if self.defect == "numpy":  # a preprocessing step outside torch: no BPDA can bridge it generically
            x = torch.from_numpy(np.round(x.detach().cpu().numpy() * 4) / 4).to(x.device)
        *body, head = list(self.children())
        for layer in body:
            x = layer(x)
        if self.defect == "dropout":
            x = F.dropout(x, 0.5, training=True)
        logits = head(x)
        if self.defect == "scale":
            return logits * 1e4
        if self.defect == "softmax":
            return logits.softmax(1)
        if self.defect == "nan":  # digits pixels are multiples of 1/16; a perturbed input leaves that grid
            off_grid = (inputs * 16 - torch.round(inputs * 16)).abs().flatten(1).amax(1).detach() > 1e-3
            return torch.where(off_grid[:, None], torch.full_like(logits, float("nan")), logits)
        return logits


def broken_cnn(
    num_classes: int = 10, in_channels: int = 1, width: int = 16, defect: str = "round"
) -> BrokenCNN:
    """Architecture factory (``broken_models:broken_cnn``) for model cards in the CLI test."""
    return BrokenCNN(*small_cnn(num_classes, in_channels, width).children(), defect=defect)


#: defences with known answers wrapping an honest trained network (``Masked``): what adaptive attacks
#: must see through (tests/diagnostics/test_adaptive.py, benchmarks/adaptive.py)
MASKS = ("decoy", "decoy-function", "quantize", "binarize", "detach", "saturate", "noise", "dropout")
NOISE_STD = 0.1  # test-time Gaussian input noise of the "noise" mask
DROPOUT = 0.2  # test-time dropout on the input pixels of the "dropout" mask


def quantize(x: torch.Tensor) -> torch.Tensor:
    """Round to 9 levels (0, 1/8, ..., 1)."""
    return torch.round(x * 8) / 8


def binarize(x: torch.Tensor) -> torch.Tensor:
    return (x > 0.5).float()


class _DecoyGradient(torch.autograd.Function):
    """The honest network's outputs; on the backward, the input gradient of the decoy network instead."""

    @staticmethod
    def forward(ctx, x, net, decoy):
        ctx.save_for_backward(x)
        ctx.decoy = decoy
        with torch.no_grad():
            return net(x)

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        with torch.enable_grad():
            point = x.detach().requires_grad_(True)
            (grad,) = torch.autograd.grad(ctx.decoy(point), point, grad_out)
        return grad, None, None


class Masked(nn.Module):
    """``net`` (an honest network) behind one masking defence; ``straight_through()`` is the same model with
    the straight-through gradient written by hand (the reference's BPDA for quantize and binarize); for the
    other masks the reference attacks ``net`` itself, whose gradients are the function's true ones."""

    def __init__(self, net: nn.Module, mask: str, *, hand_bpda: bool = False, seed: int = 1) -> None:
        super().__init__()
        self.net, self.mask, self.hand_bpda = net, mask, hand_bpda
        generator = torch.Generator().manual_seed(seed)  # the decoy: a fixed random network
        self.decoy = nn.Sequential(nn.Flatten(), nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))
        for parameter in self.decoy.parameters():
            parameter.data = torch.randn(parameter.shape, generator=generator) * 0.5
        self.requires_grad_(False).eval()

    def straight_through(self) -> Masked:
        return Masked(self.net, self.mask, hand_bpda=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.mask == "decoy":  # detach-based: BPDA through detach recovers the true gradient
            decoy = self.decoy(x)
            return self.net(x).detach() + decoy - decoy.detach()
        if self.mask == "decoy-function":  # a custom autograd function: only finite differences see through
            return _DecoyGradient.apply(x, self.net, self.decoy)
        if self.mask in ("quantize", "binarize"):
            step = quantize(x) if self.mask == "quantize" else binarize(x)
            x = x + (step - x).detach() if self.hand_bpda else step
        if self.mask == "detach" and not self.hand_bpda:
            x = x.detach()
        if self.mask == "noise":
            x = x + NOISE_STD * torch.randn_like(x)
        if self.mask == "dropout":
            x = F.dropout(x, DROPOUT, training=True)
        logits = self.net(x)
        if self.mask == "saturate":  # huge logits in float32: softmax and cross-entropy saturate
            return logits * 1e4
        return logits
