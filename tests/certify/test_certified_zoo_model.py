"""The zoo's certified model (``models/digits/linf/ibp``): trained by the zoo's own config, certified well
above 0 at eps 0.3 by IBP, and no certified point falls to PGD-20 (the bracket is real and sound)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from robench.attacks import build_attack
from robench.certify import certify
from robench.models.cards import load_card
from robench.models.checkpoint import sha256_file
from robench.models.loading import load_model
from robench.threat import ThreatModel
from robench.training.zoo import ZOO

CARD = Path(__file__).resolve().parents[2] / "models" / "digits" / "linf" / "ibp.toml"
THREAT = ThreatModel("linf", 0.3)


@pytest.mark.skipif(
    not CARD.is_file(), reason="no shipped ibp model (python -m robench.training.zoo --only ibp)"
)
def test_the_shipped_ibp_model_brackets_its_robustness(digits_test):
    card = load_card(CARD)
    assert card.sha256 == sha256_file(card.checkpoint_path) and card.recipe == "ibp"
    config = ZOO["ibp"].to_dict()
    assert {k: card.training[k] for k in ("epochs", "lr", "batch_size", "seed")} == {
        k: config[k] for k in ("epochs", "lr", "batch_size", "seed")
    }  # the committed checkpoint is the one the zoo command trains
    model = load_model(card).module
    points = digits_test.subset(60, seed=0)
    certs = certify(model, points.images, points.labels, THREAT, method="ibp")
    assert certs.certified_accuracy > 0.25
    x_adv = build_attack("pgd-20", THREAT)(model, points.images, points.labels, points.indices * 1_000)
    with torch.no_grad():
        robust = model(x_adv).argmax(1) == points.labels
    assert bool(robust[certs.certified].all())  # certified points survive the attack
    assert certs.certified_accuracy < float(robust.float().mean())  # and the attack leaves a gap above
