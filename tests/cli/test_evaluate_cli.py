"""``robench evaluate`` end to end on digits, with a checkpoint and a model card written in tmp_path."""

from __future__ import annotations

import hashlib
import json

import pytest
import torch
from safetensors.torch import save_file

from robench.attacks.suites import content_digest
from robench.cli import main
from robench.core.record import EvaluationResult
from robench.data import load_dataset
from robench.models import create_model
from robench.models.cards import ModelCard, write_card

SUITE = 'name = "tiny"\nversion = "1"\nattacks = ["fgsm", "pgd-7"]\n'


def _train(num_classes: int = 10, epochs: int = 2, points: int = 400) -> torch.nn.Module:
    """A quick digits model (about 80% clean accuracy): the CLI test needs a real model, not a good one."""
    torch.manual_seed(0)
    data = load_dataset("digits", split="train").subset(points, seed=0)
    net = create_model("small_cnn", num_classes=num_classes, in_channels=1)
    optimizer = torch.optim.Adam(net.parameters(), 5e-3)
    for _ in range(epochs):
        for start in range(0, len(data), 64):
            x, y = data.images[start : start + 64], data.labels[start : start + 64]
            loss = torch.nn.functional.cross_entropy(net(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return net


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    save_file(_train().state_dict(), root / "net.safetensors")
    save_file(
        create_model("small_cnn", num_classes=12, in_channels=1).state_dict(),
        root / "n12.safetensors",
    )
    (root / "tiny.toml").write_text(SUITE)
    (root / "typo.toml").write_text(SUITE.replace('"pgd-7"', '"pgd7"'))
    return root


def _run(capsys, *args):
    code = main(["evaluate", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def _base(files, *extra):
    return [
        "--checkpoint", files / "net.safetensors", "--arch", "small_cnn", "--dataset", "digits",
        "--threat", "linf", "--eps", "0.1", "--suite", files / "tiny.toml", "--n", "40", "--no-diagnostics",
        *extra,
    ]  # fmt: skip


def test_evaluate_writes_the_documented_json_and_prints_the_table(files, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("ROBENCH_PROGRESS", "0")
    out = tmp_path / "results.json"
    code, stdout, err = _run(capsys, *_base(files, "--out", out, "--seed", "3", "--batch-size", "16"))
    assert code == 0, err
    assert "fgsm" in stdout and "pgd-7" in stdout and "robust accuracy" in stdout
    data = json.loads(out.read_text())
    for key in ("model", "checkpoint_sha256", "dataset", "threat", "eps", "n", "seed", "suite", "clean_acc",
                "robust_acc", "stages", "samples", "flags", "verdict", "env"):  # fmt: skip
        assert key in data
    assert data["checkpoint_sha256"] == hashlib.sha256((files / "net.safetensors").read_bytes()).hexdigest()
    assert data["suite"] == {
        "name": "tiny",
        "version": "1",
        "digest": content_digest(["fgsm", "pgd-7"]),
        "definition": {"attacks": ["fgsm", "pgd-7"]},
        "attacks": ["fgsm", "pgd-7"],
    }
    assert (data["n"], data["seed"], data["eps"], data["threat"]) == (40, 3, 0.1, "linf")
    assert set(data["env"]) >= {"robench", "torch", "pyautoattack", "device", "git", "python"}
    result = EvaluationResult.from_json(out)
    assert len(result.samples) == 40 and result.verdict == "unchecked" and result.flags == []
    robust = sum(s.robust for s in result.samples)
    assert result.robust_acc == robust / 40 <= result.clean_acc
    assert result.stages[-1].robust_acc == result.robust_acc
    fgsm, pgd = result.stages
    assert fgsm.attacked == sum(s.clean_correct for s in result.samples)
    assert pgd.attacked == fgsm.attacked - fgsm.broken  # cascade: only fgsm's survivors
    assert fgsm.cost.backward == fgsm.attacked  # one gradient per point
    assert {s.broken_by for s in result.samples} <= {None, "fgsm", "pgd-7"}
    assert not (tmp_path / "results.json.state").exists()


def test_evaluate_from_a_model_card_takes_dataset_threat_and_eps_from_it(
    files, tmp_path, capsys, monkeypatch
):
    checkpoint = files / "net.safetensors"
    card = ModelCard(
        name="tiny", architecture="small_cnn", dataset="digits", num_classes=10, threat="linf", eps=0.1,
        mean=[0.0], std=[1.0], checkpoint="net.safetensors",
        sha256=hashlib.sha256(checkpoint.read_bytes()).hexdigest(),
    )  # fmt: skip
    models = tmp_path / "models"
    (models / "digits" / "linf").mkdir(parents=True)
    (models / "digits" / "linf" / "net.safetensors").write_bytes(checkpoint.read_bytes())
    write_card(card, models / "digits" / "linf" / "tiny.toml")
    monkeypatch.setenv("ROBENCH_MODELS", str(models))
    out = tmp_path / "card.json"
    args = ["--model", "digits/linf/tiny", "--suite", files / "tiny.toml", "--n", "20", "--no-diagnostics"]
    code, _, err = _run(capsys, *args, "--out", out)
    assert code == 0, err
    result = EvaluationResult.from_json(out)
    assert (result.model, result.eps, result.n) == ("digits/linf/tiny", 0.1, 20)
    assert result.card.id == "digits/linf/tiny"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (["--eps", "0"], "eps must be positive"),
        (["--eps", "2"], "larger than the [0,1] input range"),
        (["--n", "1000"], "larger than the 360 samples"),
        (["--suite", "standrd"], "did you mean"),
        (["--suite", "{typo}"], "pgd7"),
        (["--threat", "l3"], "unknown threat model"),
        (["--device", "cuda:7"] if not torch.cuda.is_available() else ["--device", "tpu"], "device"),
        (["--checkpoint", "{n12}", "--num-classes", "12"], "outputs 12 classes but digits has 10 classes"),
        (["--checkpoint", "{missing}"], "missing.safetensors"),
    ],
)
def test_bad_input_is_one_line_on_stderr_and_exit_code_2(files, capsys, change, message):
    names = {
        "{typo}": files / "typo.toml",
        "{n12}": files / "n12.safetensors",
        "{missing}": files / "missing.safetensors",
    }
    args = [str(a) for a in _base(files)]
    for option, value in zip(change[::2], change[1::2], strict=True):
        if option in args:
            args[args.index(option) + 1] = str(names.get(value, value))
        else:
            args += [option, str(names.get(value, value))]
    code, _, err = _run(capsys, *args)
    assert code == 2
    lines = [line for line in err.splitlines() if line.startswith("robench: error:")]
    assert len(lines) == 1 and message in lines[0], err
    assert "Traceback" not in err


def test_model_or_checkpoint_is_required(capsys):
    code, _, err = _run(capsys, "--dataset", "digits", "--threat", "linf", "--eps", "0.1")
    assert code == 2 and "give either --model" in err
