"""Architecture registry (lazy: importing robench imports no architecture) and model construction."""

from __future__ import annotations

from torch import nn

from robench.models.wrapper import Normalized, normalize, prepare_for_eval
from robench.registry import Registry

ARCHITECTURES: Registry = Registry("architecture", allow_user_code=True)
ARCHITECTURES.add("small_cnn", "robench.models.archs.small_cnn:small_cnn")


def create_model(arch: str, num_classes: int = 10, in_channels: int = 3, **kwargs) -> nn.Module:
    """Build an architecture by registered name or ``package.module:factory`` (without normalisation)."""
    factory = ARCHITECTURES.get(arch)
    try:
        return factory(num_classes=num_classes, in_channels=in_channels, **kwargs)
    except TypeError:
        # user factories may not take in_channels
        return factory(num_classes=num_classes, **kwargs)


__all__ = ["ARCHITECTURES", "Normalized", "create_model", "normalize", "prepare_for_eval"]
