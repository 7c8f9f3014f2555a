"""Reuse of stored results by the gate: the split is part of the key, and a randomised model (evaluated
with EOT attacks) is reused by an identical second run."""

from __future__ import annotations

import hashlib
import json
import textwrap
from dataclasses import asdict, replace

import pytest
import torch

from robench.core.identity import EvaluationKey
from robench.engine.evaluation import SUITE_EOT_SAMPLES as EOT_SAMPLES
from robench.pipeline.gate import check_model
from robench.store import ResultsStore


@pytest.fixture
def evaluations(monkeypatch):
    """Counts the evaluations that actually run (a reused result runs none)."""
    from robench.engine.evaluation import Evaluation

    calls = []
    original = Evaluation.run

    def counted(self, *args, **kwargs):
        calls.append(self.data.split)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Evaluation, "run", counted)
    return calls


def _numbered_from_zero(data, size):
    """The first ``size`` points, with canonical indices 0..size-1 as torchvision numbers each split."""
    part = data.take(torch.arange(size))
    return replace(part, indices=torch.arange(size))


def test_a_stored_result_of_one_split_is_not_reused_for_another(
    tiny_digits_card, digits_test, digits_train, evaluations, tmp_path
):
    size = len(digits_test)
    splits = {
        "test": _numbered_from_zero(digits_test, size),
        "train": _numbered_from_zero(digits_train, size),
    }
    assert splits["test"].subset(40).subset_sha256() == splits["train"].subset(40).subset_sha256()
    options = {"n": 40, "diagnostics": False, "store": tmp_path / "s.sqlite", "min_clean": 0.0}
    first = {}
    for split in ("train", "test"):
        report, _ = check_model(str(tiny_digits_card.path), dataset=splits[split], **options)
        assert not report.reused and report.result.split == split
        first[split] = report.result
    assert evaluations == ["train", "test"]
    for split in ("test", "train"):  # each split now finds its own result
        report, _ = check_model(str(tiny_digits_card.path), dataset=splits[split], **options)
        assert report.reused and report.result.split == split
        assert report.result.clean_acc == first[split].clean_acc
    assert evaluations == ["train", "test"]
    with ResultsStore(options["store"]) as store:
        assert len(store.runs()) == 2


def test_the_key_digest_covers_every_field_of_the_key():
    key = EvaluationKey(
        checkpoint_sha256="ab" * 32,
        dataset="digits",
        threat="linf",
        eps=0.3,
        suite_name="quick",
        suite_version="1",
        subset_sha256="cd" * 32,
        seed=0,
        data_fingerprint="ef" * 32,
    )
    text = json.dumps(asdict(key) | {"eps": repr(0.3)}, sort_keys=True, separators=(",", ":"))
    assert key.digest() == hashlib.sha256(text.encode()).hexdigest()
    changes = {"split": "train", "block_size": 64, "data_fingerprint": "00" * 32, "eps": 8 / 255, "mode": "x"}
    changes |= {"suite_version": None, "suite_digest": "ee" * 32, "checkpoint_sha256": None, "seed": 1}
    digests = {replace(key, **{name: value}).digest() for name, value in changes.items()}
    assert len(digests) == len(changes) and key.digest() not in digests


_NOISY_NET = textwrap.dedent(
    """
    import torch
    from torch import nn


    class Noisy(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = nn.Sequential(nn.Flatten(), nn.Linear(64, 10))

        def forward(self, x):
            return self.net(x + 0.2 * torch.randn_like(x))


    def noisy(num_classes=10, in_channels=1):
        return Noisy()
    """
)


def test_a_randomised_model_is_reused_by_an_identical_gate_run(tmp_path, monkeypatch, evaluations, capsys):
    from robench.cli import main
    from robench.models.checkpoint import save_checkpoint

    (tmp_path / "gate_noisy_net.py").write_text(_NOISY_NET)
    monkeypatch.syspath_prepend(str(tmp_path))
    from gate_noisy_net import noisy

    torch.manual_seed(0)
    save_checkpoint(noisy(), tmp_path / "noisy.safetensors")
    args = ["gate", "--checkpoint", str(tmp_path / "noisy.safetensors"), "--arch", "gate_noisy_net:noisy"]
    args += ["--dataset", "digits", "--eps", "0.3", "--n", "20", "--suite", "standard", "--min-clean", "0"]
    args += ["--json"]
    args += ["--store", str(tmp_path / "s.sqlite")]
    summaries = []
    for _ in range(2):
        assert main(args) == 0
        summaries.append(json.loads(capsys.readouterr().out))
    assert [s["reused"] for s in summaries] == [False, True]
    assert evaluations == ["test"]  # the second run evaluated nothing
    with ResultsStore(tmp_path / "s.sqlite") as store:
        (run,) = store.runs()
        stored = store.get(run.id)
    # evaluated as randomised: EOT attacks, and AutoAttack's rand version instead of the declared one
    assert stored.eot_samples == EOT_SAMPLES and stored.suite["attacks"][-1] == "autoattack-rand"
    assert summaries[1]["robust_acc"] == summaries[0]["robust_acc"]
