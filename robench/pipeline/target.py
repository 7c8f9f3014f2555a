"""What a request names, loaded: the model, its dataset and threat model (defaulting to the card's),
and the card. Shared by evaluate, gate, submit and the pytest plugin, so that every entry point accepts
the same combinations and reports the same errors."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path

import torch

from robench.core.record import CardSummary, ModelInfo
from robench.data import DataSpec, default_eps
from robench.data.base import ImageDataset
from robench.engine.evaluation import load_definition, resolve_device
from robench.engine.identity import evaluation_points
from robench.errors import RobenchError
from robench.models.cards import ModelCard
from robench.models.loading import LoadedModel
from robench.threat import ThreatModel


@dataclass
class Target:
    """A loaded model, its dataset and threat model, and the card they came from (if any)."""

    loaded: LoadedModel
    data: ImageDataset
    threat: ThreatModel
    card: ModelCard | None = None
    _points: dict = dataclasses.field(default_factory=dict, repr=False)

    def points(self, run) -> ImageDataset:
        """The evaluated subset for ``run`` (n, seed), decoded once however often it is asked for."""
        key = (run.n, run.seed)
        if key not in self._points:
            self._points[key] = evaluation_points(self.data, run)
        return self._points[key]

    @property
    def model_info(self) -> ModelInfo:
        provenance = self.loaded.provenance()
        return ModelInfo(**provenance)

    @property
    def card_summary(self) -> CardSummary | None:
        card = self.card
        return None if card is None else CardSummary(card.id, card.recipe, card.source, card.paper)


def resolve_target(request, *, default_threat: str | None = None) -> Target:
    """Load what ``request`` (an EvaluationRequest) names, with the dataset/threat/eps given or else the
    card's (``request.points``: an ImageDataset handed over in Python instead of ``request.data``);
    ``default_threat`` applies when neither the options nor a card give one, and the eps defaults to the
    dataset's usual one (robench.data.default_eps) when neither gives one either."""
    load_definition(request.run.suite, request.run.trust_code)  # a bad suite file fails before any work
    card, dataset = request.model.find_card(), request.points
    threat, eps = request.threat.threat, request.threat.eps
    if card is not None:
        threat, eps = threat or card.threat, card.eps if eps is None else eps
    entry = request.model.zoo_entry()
    if entry is not None:  # RobustBench's protocol for the entry: its dataset, threat model and eps
        threat = threat or entry.norm
        eps = default_eps(entry.dataset, threat) if eps is None else eps
    threat = threat or default_threat
    data_spec = _data_spec(request, card, entry)
    if threat is None or (dataset is None and data_spec.spec is None):
        data_given = dataset is not None or data_spec.spec is not None
        missing = [o for o, given in (("--dataset", data_given), ("--threat", threat)) if not given]
        raise RobenchError(f"give {', '.join(missing)} (there is no model card to take it from)")
    data = dataset if dataset is not None else data_spec.load()
    eps = default_eps(data.name, threat) if eps is None else eps
    if eps is None:
        raise RobenchError(f"give --eps (no model card gives one and {data.name} has no usual {threat} eps)")
    threat_model = ThreatModel.parse(threat, eps)
    device = resolve_device(request.run.device)
    if card is not None and card.in_channels not in (None, data.input_shape[0]):  # None: the checkpoint's
        raise RobenchError(
            f"model card {card.id} takes {card.in_channels}-channel images but {data.name} has "
            f"{data.input_shape[0]}-channel images (--channels {card.in_channels} converts them)"
        )
    target = Target(request.model.load(card, data, device), data, threat_model, card)
    if request.model.module is None:  # a network robench built from a card or checkpoint, not the caller's
        check_model_takes(target, device)
    return target


#: what torch's messages say when a layer cannot take an input's channels or size
SHAPE_ERROR = re.compile(
    r"shape|size|channels|mat1 and mat2|dimension|Expected .*input|kernel|padded input", re.IGNORECASE
)


def check_model_takes(target: Target, device) -> None:
    """One forward of one image before any work: a model that cannot take the data's images (their
    channels or size) is one RobenchError naming both, not a traceback in the middle of a run. The
    random number generator is left as it was."""
    data, model = target.data, target.loaded.module
    shape = "x".join(str(s) for s in data.input_shape)
    x = data.images[:1].to(device)
    cuda = [device] if torch.device(device).type == "cuda" else []
    try:
        with torch.no_grad(), torch.random.fork_rng(devices=cuda):
            model(x)
    except torch.cuda.OutOfMemoryError:
        raise
    except RuntimeError as exc:  # torch's shape errors: channels, a too small image, a flattened size
        reason = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        if not SHAPE_ERROR.search(reason):
            return  # not a shape error: a bug or a crash of the model's own, left to the run to report
        raise RobenchError(
            f"model {target.loaded.name} cannot take {data.name}'s {shape} images (RuntimeError: {reason})"
        ) from None


def _data_spec(request, card: ModelCard | None, entry=None) -> DataSpec:
    """The data spec of a request: the model's classes (``--num-classes``, else the card's, or a
    robustbench: entry's) and trust opt-in apply to the data too; a robustbench: entry's dataset (with its
    ImageNet preprocessing) unless the request names one."""
    model = request.model
    if entry is not None:
        classes = entry.num_classes
    else:
        classes = model.num_classes or (card.num_classes if card is not None else None)
    spec = dataclasses.replace(request.data, num_classes=classes, trust_code=model.trust_code)
    if entry is not None and spec.spec in (None, entry.dataset):
        given = spec.preprocessing is not None or spec.image_size is not None
        preprocessing = spec.preprocessing if given else entry.preprocessing
        return dataclasses.replace(spec, spec=entry.dataset, preprocessing=preprocessing)
    return spec if card is None or spec.spec is not None else card_data_spec(card, spec)


def card_data_spec(card: ModelCard, spec: DataSpec | None = None) -> DataSpec:
    """The dataset a card names, with the card's class count: a folder:/file: path is read relative to the
    card's folder, and code it names runs only with the opt-in (``spec.trust_code``)."""
    spec = spec or DataSpec(trust_code=card.trusted, num_classes=card.num_classes)
    name = card.dataset
    kind, colon, path = name.partition(":")
    if colon and kind in ("folder", "file") and card.path is not None and not Path(path).is_absolute():
        name = f"{kind}:{card.path.parent / path}"
    return dataclasses.replace(spec, spec=name, source=f"model card {card.path or card.id}")
