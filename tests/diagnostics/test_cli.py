"""`robench evaluate` prints the flags with their numbers and the verdict, from model cards on disk."""

from __future__ import annotations

import dataclasses
import json
import shutil

import pytest

from robench.cli import main
from robench.models.cards import write_card


@pytest.mark.parametrize(
    ("defect", "verdict", "codes"), [("round", "unreliable", {"zero_gradients"}), ("none", "reliable", set())]
)
def test_evaluate_prints_flags_and_verdict(defect, verdict, codes, tiny_digits_card, tmp_path, capsys):
    shutil.copy(tiny_digits_card.checkpoint_path, tmp_path / "tiny.safetensors")
    card = dataclasses.replace(
        tiny_digits_card,
        name=defect,
        architecture="broken_models:broken_cnn",
        arch_kwargs={"width": 16, "defect": defect},
        checkpoint="tiny.safetensors",
    )
    card_path = write_card(card, tmp_path / f"{defect}.toml")
    out = tmp_path / "result.json"
    argv = ["evaluate", "--model", str(card_path), "--suite", "quick", "--n", "40", "--out", str(out)]
    assert main(argv) == 2  # the card names code: refused without the opt-in
    assert "--trust-code" in capsys.readouterr().err
    assert main([*argv, "--trust-code"]) == 0
    printed = capsys.readouterr().out
    assert f"verdict {verdict}" in " ".join(printed.split())
    record = json.loads(out.read_text())
    assert record["verdict"] == verdict and {f["code"] for f in record["flags"]} >= codes
    for flag in record["flags"]:
        assert f"[{flag['severity']}] {flag['code']}" in printed
        if flag["code"] == "zero_gradients":
            assert f"evidence: points={flag['evidence']['points']} " in printed
        assert flag["evidence"]  # and the numbers behind it travel in the JSON
    assert record["diagnostics"]["checks"] and record["stages"][-1]["attack"] == "cw"
