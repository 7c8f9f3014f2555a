"""Overfitting guards on real digits runs at eps 0.3, and best-checkpoint selection.

FGSM training without a random start catastrophically overfits here (single-step accuracy climbs while
PGD accuracy stays near zero); PGD training at the same budget does not, and is the more robust model.
"""

from __future__ import annotations

import pytest
import torch
from safetensors.torch import load_file

from robench.models import create_model
from robench.threat import ThreatModel
from robench.training import TrainConfig, train
from robench.training.data import monitor_points, train_val_split
from robench.training.monitor import EpochMetrics, catastrophic_overfitting, validation_metrics

COMMON = dict(
    dataset="digits", eps=0.3, batch_size=32, optimizer="adam", lr=3e-3, weight_decay=0.0,
    schedule="constant", monitor_n=143, monitor_pgd_steps=5, seed=0,
)  # fmt: skip


def recompute(config: TrainConfig, checkpoint) -> EpochMetrics:
    """Validation metrics of a saved checkpoint, evaluated exactly as the trainer does."""
    _, val = train_val_split(config.dataset, config.val_size, None)
    sample = monitor_points(val, config.monitor_n)
    net = create_model(config.arch, num_classes=10, in_channels=1)
    net.load_state_dict(load_file(str(checkpoint)))
    threat = ThreatModel("linf", config.eps)
    return validation_metrics(net, sample.images, sample.labels, threat, config.monitor_pgd_steps)


def as_metrics(row) -> EpochMetrics:
    return EpochMetrics(row["val_clean_acc"], row["val_fgsm_acc"], row["val_pgd_acc"])


@pytest.fixture(scope="module")
def fgsm_run(tmp_path_factory):
    config = TrainConfig(recipe="fgsm", epochs=12, early_stop=True, **COMMON)
    return config, train(config, tmp_path_factory.mktemp("fgsm"), "fgsm")


@pytest.fixture(scope="module")
def pgd_run(tmp_path_factory):
    config = TrainConfig(recipe="pgd", epochs=8, attack_steps=3, **COMMON)
    return config, train(config, tmp_path_factory.mktemp("pgd"), "pgd")


@pytest.mark.slow
def test_fgsm_triggers_the_guard_and_early_stop_restores_the_last_good_weights(fgsm_run):
    config, result = fgsm_run
    flags = result.summary["flags"]
    assert flags["catastrophic_overfitting"] and flags["stopped_early"]
    co_epoch = flags["catastrophic_overfitting_epoch"]
    flagged = result.rows[co_epoch - 1]
    assert flagged["catastrophic_overfitting"] and len(result.rows) == co_epoch  # stopped there
    assert flagged["val_fgsm_acc"] - flagged["val_pgd_acc"] > config.co_gap or (
        result.rows[co_epoch - 2]["val_pgd_acc"] - flagged["val_pgd_acc"] > config.co_drop
    )
    # the final checkpoint holds the weights of the epoch before the flag, not the overfit ones
    assert recompute(config, result.paths.final) == as_metrics(result.rows[co_epoch - 2])
    assert result.summary["final"]["epoch"] == co_epoch - 1


@pytest.mark.slow
def test_pgd_does_not_trigger_the_guard_and_is_more_robust(pgd_run, fgsm_run):
    _, pgd = pgd_run
    _, fgsm = fgsm_run
    assert not pgd.summary["flags"]["catastrophic_overfitting"]
    assert not any(row["catastrophic_overfitting"] for row in pgd.rows)
    assert pgd.rows[-1]["val_pgd_acc"] > 0.15
    assert pgd.rows[-1]["val_pgd_acc"] > fgsm.rows[-1]["val_pgd_acc"] + 0.1


@pytest.mark.slow
def test_best_checkpoint_is_the_best_validation_pgd_epoch(pgd_run, fgsm_run):
    for config, result in (pgd_run, fgsm_run):
        pgd_accs = [row["val_pgd_acc"] for row in result.rows]
        best_epoch = pgd_accs.index(max(pgd_accs)) + 1  # first epoch reaching the maximum
        assert result.summary["best"] == {"epoch": best_epoch, "val_pgd_acc": max(pgd_accs)}
        assert [row["best"] for row in result.rows].count(True) >= 1 and result.rows[best_epoch - 1]["best"]
        assert recompute(config, result.paths.best) == as_metrics(result.rows[best_epoch - 1])
        gap = max(pgd_accs) - result.summary["final"]["val_pgd_acc"]
        assert result.summary["best_minus_final_pgd"] == pytest.approx(gap)
        assert result.summary["flags"]["robust_overfitting"] == (gap > config.ro_gap)
        card_text = result.paths.card.read_text()
        assert f'best_checkpoint = "{result.paths.best.name}"' in card_text


def test_guard_rules_on_known_numbers():
    previous = EpochMetrics(0.9, 0.6, 0.5)
    assert catastrophic_overfitting(EpochMetrics(0.9, 0.6, 0.45), previous, drop=0.2, gap=0.3) is None
    assert "fell from 0.500 to 0.250" in catastrophic_overfitting(
        EpochMetrics(0.9, 0.5, 0.25), previous, drop=0.2, gap=0.3
    )
    assert "exceeds PGD accuracy 0.050" in catastrophic_overfitting(
        EpochMetrics(0.9, 0.4, 0.05), None, drop=0.2, gap=0.3
    )
    assert catastrophic_overfitting(EpochMetrics(0.9, 0.3, 0.05), None, drop=0.2, gap=0.3) is None


def test_monitor_metrics_are_deterministic():
    torch.manual_seed(0)
    net = create_model("small_cnn", num_classes=10, in_channels=1, width=8)
    _, val = train_val_split("digits", None, None)
    sample = monitor_points(val, 50)
    threat = ThreatModel("linf", 0.3)
    first = validation_metrics(net, sample.images, sample.labels, threat, 3)
    assert first == validation_metrics(net, sample.images, sample.labels, threat, 3)
    assert first.pgd_acc <= first.clean_acc and 0 <= first.fgsm_acc <= 1
