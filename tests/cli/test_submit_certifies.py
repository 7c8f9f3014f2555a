"""``robench submit`` certifies too: the entry carries IBP and CROWN-IBP certificates (counts only), the
board shows [certified, robust] side by side, the report the bracket and its certified eps sweep."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace

import pytest

from robench.certify import certify
from robench.cli import main
from robench.models.cards import write_card
from robench.pipeline.submit import EVALUATION_N
from robench.threat import ThreatModel

EPS = 0.02  # the tiny model: CROWN-IBP certifies about half its points here, IBP almost none


@pytest.mark.slow
def test_submit_records_and_shows_the_bracket(
    tiny_digits_card, tiny_digits_model, digits_test, tmp_path, capsys, monkeypatch
):
    # the model is robust at this eps, where the standard suite's Square would spend minutes on it; the
    # certificates do not depend on the suite
    monkeypatch.setattr("robench.pipeline.submit.SUITE", ["fgsm", "pgd-7"])
    folder = tmp_path / "card"
    folder.mkdir()
    shutil.copy(tiny_digits_card.checkpoint_path, folder / "tiny.safetensors")
    card = write_card(replace(tiny_digits_card, eps=EPS, path=None), folder / "tiny.toml")
    places = {"store": tmp_path / "s.sqlite", "leaderboards": tmp_path / "lb", "reports": tmp_path / "rp"}
    assert main(["submit", "--card", str(card), *(f"--{k}={v}" for k, v in places.items())]) == 0
    capsys.readouterr()
    entry = json.loads((tmp_path / "lb" / "digits" / "linf" / "entries" / "tiny.json").read_text())
    ibp, crown_ibp = entry["certificates"]
    assert [(c["method"], c["eps"], c["n"], c["certified"]) for c in (ibp, crown_ibp)] == [
        ("ibp", EPS, EVALUATION_N["digits"], None),
        ("crown-ibp", EPS, EVALUATION_N["digits"], None),
    ]
    points = digits_test.subset(EVALUATION_N["digits"], seed=0)
    alone = certify(
        tiny_digits_model, points.images, points.labels, ThreatModel("linf", EPS), method="crown-ibp"
    )
    assert crown_ibp["certified_count"] == int(alone.certified.sum()) > 0
    assert crown_ibp["certified_acc"] <= entry["robust_acc"] and "certified_but_broken" not in str(
        entry["flags"]
    )
    sweep = entry["extra"]["certified_sweep"]
    assert sweep["eps"] == entry["extra"]["eps_sweep"]["eps"] and len(sweep["certified_acc"]) == 6
    assert sweep["certified_acc"][0] >= sweep["certified_acc"][-1] == 0.0  # nothing is certified at 2 eps...
    board = (tmp_path / "lb" / "digits" / "linf.md").read_text()
    certified = f"{100 * crown_ibp['certified_acc']:.1f} (CROWN-IBP)"
    assert f"| {certified} | {100 * entry['robust_acc']:.1f} |" in board
    report = (tmp_path / "rp" / "digits" / "linf" / "tiny.md").read_text()
    assert "## Certified robustness" in report and "the true robust accuracy lies in [" in report
