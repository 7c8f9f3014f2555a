"""Mean/std normalisation inside the model, so every attack works in [0, 1] input space; the model
prepared for evaluation (eval mode, parameter gradients off) and the caller's model put back as it was."""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator, Sequence

import torch
from torch import nn

from robench.models.normalization import check_mean_std


class Normalized(nn.Module):
    """``Normalized(net, mean, std)(x) == net((x - mean) / std)``; state dict keys are the net's own."""

    def __init__(self, net: nn.Module, mean: Sequence[float], std: Sequence[float]) -> None:
        super().__init__()
        self.net = net
        shape = (1, len(mean), 1, 1)
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(shape), persistent=False)
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).view(shape), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net((x - self.mean) / self.std)


def normalize(net: nn.Module, mean: Sequence[float], std: Sequence[float]) -> nn.Module:
    """Wrap net unless the normalisation is the identity (checked: robench.models.normalization)."""
    check_mean_std(mean, std, "the normalisation")
    if all(m == 0 for m in mean) and all(s == 1 for s in std):
        return net
    return Normalized(net, mean, std)


def prepare_for_eval(model: nn.Module, *, quiet: bool = False) -> nn.Module:
    """Eval mode, parameter gradients off. A model handed over in train mode is switched, and we say what
    was switched (the entry points that take a caller's model put it back: ``kept_as_it_was``)."""
    if model.training and not quiet:
        modules = list(model.modules())
        training = sum(m.training for m in modules)
        grads = sum(p.requires_grad for p in model.parameters())
        warnings.warn(
            f"the model was in train mode ({training} of {len(modules)} modules training, {grads} parameters "
            "requiring gradients); robench evaluates it in eval mode with parameter gradients off and puts "
            "both back when it returns",
            stacklevel=2,
        )
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model


@contextlib.contextmanager
def kept_as_it_was(model: object) -> Iterator[None]:
    """When the block ends (an error or KeyboardInterrupt included), every submodule of ``model`` (an
    nn.Module; anything else is left alone) is back in its train/eval mode and every parameter has its
    ``requires_grad`` again: robench never changes the caller's model for good."""
    if not isinstance(model, nn.Module):
        yield
        return
    modes = [(module, module.training) for module in model.modules()]
    grads = [(parameter, parameter.requires_grad) for parameter in model.parameters()]
    try:
        yield
    finally:
        for module, training in modes:
            module.training = training
        for parameter, required in grads:
            parameter.requires_grad_(required)
