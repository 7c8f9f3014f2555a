"""`robench models --source robustbench`, `robench evaluate --model robustbench:...` refusals, and
`robench export --format robustbench` from stored records (known counts -> known model_info)."""

from __future__ import annotations

import importlib.util
import json
import sys
from fractions import Fraction
from pathlib import Path

import pytest

from robench.cli import main
from robench.core.cost import Cost
from robench.core.record import DataInfo, EvaluationResult, ModelInfo, SampleResult, StageResult
from robench.leaderboard.entries import make_entry, write_entry

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "leaderboard"))
from synthetic_records import flat_record  # noqa: E402

needs_robustbench = pytest.mark.skipif(
    importlib.util.find_spec("robustbench") is None, reason="the robustbench extra is not installed"
)

STANDARD = ["fgsm", "pgd-7", "pgd-20", "pgd-100x1", "cw", "autoattack"]


def cifar_record(
    *,
    clean: int = 8969,
    robust: int = 5953,
    n: int = 10_000,
    eps: float = 8 / 255,
    suite: str = "standard",
    attacks=STANDARD,
    dataset="cifar10",
    threat="linf",
    verdict: str = "reliable",
) -> EvaluationResult:
    """A stored evaluation with ``clean`` clean-correct and ``robust`` robust points of ``n``."""
    samples = [
        SampleResult(index=i, label=i % 10, clean_correct=i < clean, robust=i < robust) for i in range(n)
    ]
    return flat_record(
        model="robustbench:cifar10/Linf/Carmon2019Unlabeled",
        checkpoint_sha256="ab" * 32,
        dataset=dataset,
        split="test",
        threat=threat,
        eps=eps,
        seed=0,
        subset_sha256="cd" * 32,
        suite={"name": suite, "version": "3", "attacks": list(attacks)},
        mode="cascade",
        stages=[StageResult(a, robust / n, n, 0, Cost(n, n, 1.0)) for a in attacks],
        samples=samples,
        verdict=verdict,
        model_info=ModelInfo(architecture="WideResNet(depth=28, widen_factor=10)"),
        data_info=DataInfo(spec=dataset),
    )


def test_export_writes_robustbench_model_info(tmp_path, capsys):
    path = tmp_path / "result.json"
    cifar_record().to_json(path)
    out = tmp_path / "model_info" / "Carmon2019Unlabeled.json"
    assert main(["export", "--format", "robustbench", str(path), "--out", str(out)]) == 0
    info = json.loads(out.read_text())
    assert info["clean_acc"] == "89.69" and info["autoattack_acc"] == "59.53"  # RobustBench's text
    assert info["eps"] == "8/255" and Fraction(info["eps"]) == Fraction(8, 255)
    assert info["dataset"] == "cifar10" and info["number_forward_passes"] == 1
    assert info["architecture"] == "WideResNet(depth=28, widen_factor=10)" and info["unreliable"] is False
    assert "standard v3" in info["footnote"] and "seed 0" in info["footnote"]
    # every field of a RobustBench model_info file, and only those
    assert set(info) == {
        "link",
        "name",
        "authors",
        "additional_data",
        "number_forward_passes",
        "dataset",
        "venue",
        "architecture",
        "eps",
        "clean_acc",
        "reported",
        "autoattack_acc",
        "footnote",
        "unreliable",
    }
    assert "fill in what robench cannot know" in capsys.readouterr().err


def test_export_from_a_leaderboard_entry(tmp_path, capsys):
    record = cifar_record(clean=9000, robust=4000, threat="l2", eps=0.5, verdict="unreliable")
    entry = write_entry(
        make_entry("zoo-entry", record, {"paper": "https://arxiv.org/abs/1905.13736"}), tmp_path
    )
    assert main(["export", "--format", "robustbench", str(entry)]) == 0
    info = json.loads(capsys.readouterr().out)
    assert (info["clean_acc"], info["autoattack_acc"], info["eps"]) == ("90.0", "40.0", "0.5")
    assert info["link"] == "https://arxiv.org/abs/1905.13736" and info["unreliable"] is True


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"suite": "fast", "attacks": ["fgsm", "pgd-20", "apgd-100"]}, "last stage is complete AutoAttack"),
        ({"n": 1000, "clean": 900, "robust": 500}, "all 10,000 cifar10 test points; this record has n=1000"),
        ({"eps": 4 / 255}, "board is at eps 8/255, this record at 4/255"),
        ({"dataset": "imagenet", "threat": "l2", "eps": 3.0}, "no imagenet l2 board"),
        ({"dataset": "digits", "eps": 0.3}, "no digits linf board"),
    ],
)
def test_export_refuses_other_protocols(fields, message, tmp_path, capsys):
    path = tmp_path / "result.json"
    cifar_record(**fields).to_json(path)
    assert main(["export", "--format", "robustbench", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


def test_export_refuses_unknown_formats_and_files(tmp_path, capsys):
    path = tmp_path / "result.json"
    cifar_record().to_json(path)
    assert main(["export", "--format", "csv", str(path)]) == 2
    (tmp_path / "bad.json").write_text("{not json")
    assert main(["export", "--format", "robustbench", str(tmp_path / "bad.json")]) == 2
    errors = capsys.readouterr().err.strip().splitlines()
    assert "--format is one of robustbench" in errors[0] and "cannot read" in errors[1]


@needs_robustbench
def test_models_lists_robustbench_entries(tmp_path, capsys):
    present = tmp_path / "cifar10" / "L2" / "Rice2020Overfitting.pt"
    present.parent.mkdir(parents=True)
    present.write_bytes(b"x")
    args = ["models", "--source", "robustbench", "--dataset", "cifar10", "--threat", "l2", "--json"]
    assert main([*args, "--model-dir", str(tmp_path)]) == 0
    listing = json.loads(capsys.readouterr().out)
    assert len(listing["entries"]) == 21
    rows = {row["id"]: row for row in listing["entries"]}
    assert rows["robustbench:cifar10/L2/Rice2020Overfitting"]["present"] == "yes"
    assert rows["robustbench:cifar10/L2/Standard"]["present"] == "no"
    assert main(["models", "--source", "robustbench", "--dataset", "imagenet"]) == 0
    assert "Salman2020Do_R18" in capsys.readouterr().out
    assert main(["models", "--dataset", "cifar10"]) == 2
    assert "add --source robustbench" in capsys.readouterr().err


@needs_robustbench
def test_evaluate_names_the_missing_file_and_download(tmp_path, capsys):
    import numpy as np

    data = tmp_path / "points.npz"
    np.savez(data, x=np.zeros((2, 3, 32, 32), np.float32), y=np.zeros(2, np.int64))
    args = ["evaluate", "--model", "robustbench:cifar10/Linf/Ding2020MMA", "--model-dir", str(tmp_path)]
    assert main([*args, "--dataset", f"file:{data}"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--download" in err
    assert str(tmp_path / "cifar10" / "Linf" / "Ding2020MMA.pt") in err
    assert main(["evaluate", "--model", "robustbench:cifar10/corruptions/Standard"]) == 2
    assert "not common corruptions" in capsys.readouterr().err
