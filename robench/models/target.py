"""What to evaluate, from user options: the model (a card, a checkpoint + architecture, or an nn.Module),
the dataset and the threat model, the last two defaulting to the card's.

Shared by ``robench evaluate``, ``robench gate`` and the gate's pytest plugin, so that every entry point
accepts the same combinations and reports the same errors.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from robench.errors import RobenchError
from robench.models.cards import ModelCard
from robench.models.loading import LoadedModel
from robench.models.spec import ModelSpec


@dataclass
class Target:
    """A loaded model, its dataset and threat model, and the card they came from (if any)."""

    loaded: LoadedModel
    data: Any  # robench.data.ImageDataset
    threat: Any  # robench.threat.ThreatModel
    card: ModelCard | None = None
    device: str = "cpu"

    def evaluate(self, *, run=None, **settings):
        """``robench.evaluate`` (or ``run``, same arguments) on this target: its model, data, threat and
        device, the record named and keyed by the model."""
        if run is None:
            from robench.engine.evaluate import evaluate as run
        return run(
            self.loaded.module,
            self.data,
            self.threat,
            device=self.device,
            model_name=self.loaded.name,
            checkpoint_sha256=self.loaded.sha256,
            **settings,
        )


def resolve_target(
    spec: ModelSpec,
    *,
    dataset: Any = None,
    threat: str | None = None,
    eps: str | float | None = None,
    split: str = "test",
    data_root: str | None = None,
    device: str = "cpu",
    default_threat: str | None = None,
) -> Target:
    """Load what ``spec`` names, with the dataset/threat/eps given or else the card's.

    ``dataset`` is a registered name or an ImageDataset; ``default_threat`` is used when neither the
    options nor a card give one (otherwise ``--threat`` is required like ``--dataset`` and ``--eps``).
    """
    from robench.data import ImageDataset, load_dataset
    from robench.threat import ThreatModel

    card = spec.find_card()
    if card is not None:
        dataset = card.dataset if dataset is None else dataset
        threat = threat or card.threat
        eps = card.eps if eps is None else eps
    threat = threat or default_threat
    given = (("--dataset", dataset), ("--threat", threat), ("--eps", eps))
    missing = [option for option, value in given if value is None]
    if missing:
        raise RobenchError(f"give {', '.join(missing)} (there is no model card to take it from)")
    threat_model = ThreatModel.parse(threat, eps)
    if not isinstance(dataset, ImageDataset):
        dataset = load_dataset(str(dataset), split=split, root=data_root)
    return Target(spec.load(card, dataset, device), dataset, threat_model, card, device)
