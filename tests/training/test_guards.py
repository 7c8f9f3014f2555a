"""Overfitting guards on real digits runs at eps 0.3, and best-checkpoint selection.

FGSM training without a random start catastrophically overfits here (single-step accuracy climbs while
PGD accuracy stays near zero); PGD training at the same budget does not, and is the more robust model.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from safetensors.torch import load_file

from robench.models import create_model
from robench.threat import ThreatModel
from robench.training import TrainConfig, train
from robench.training.data import monitor_points, train_val_split
from robench.training.monitor import (
    MONITOR_SEED,
    EpochMetrics,
    catastrophic_overfitting,
    not_learning,
    validation_metrics,
)

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
    flags = result.summary.to_dict()["flags"]
    assert flags["catastrophic_overfitting"] and flags["stopped_early"]
    co_epoch = flags["catastrophic_overfitting_epoch"]
    flagged = result.rows[co_epoch - 1]
    assert flagged["catastrophic_overfitting"] and len(result.rows) == co_epoch  # stopped there
    assert flagged["val_fgsm_acc"] - flagged["val_pgd_acc"] > config.co_gap or (
        result.rows[co_epoch - 2]["val_pgd_acc"] - flagged["val_pgd_acc"] > config.co_drop
    )
    # the final checkpoint holds the weights of the epoch before the flag, not the overfit ones
    assert recompute(config, result.paths.final) == as_metrics(result.rows[co_epoch - 2])
    assert result.summary.final_epoch == co_epoch - 1


@pytest.mark.slow
def test_pgd_does_not_trigger_the_guard_and_is_more_robust(pgd_run, fgsm_run):
    _, pgd = pgd_run
    _, fgsm = fgsm_run
    assert not pgd.summary.flags.catastrophic_overfitting
    assert not any(row["catastrophic_overfitting"] for row in pgd.rows)
    assert pgd.rows[-1]["val_pgd_acc"] > 0.15
    assert pgd.rows[-1]["val_pgd_acc"] > fgsm.rows[-1]["val_pgd_acc"] + 0.1


@pytest.mark.slow
def test_best_checkpoint_is_the_best_validation_pgd_epoch(pgd_run, fgsm_run):
    for config, result in (pgd_run, fgsm_run):
        pgd_accs = [row["val_pgd_acc"] for row in result.rows]
        best_epoch = pgd_accs.index(max(pgd_accs)) + 1  # first epoch reaching the maximum
        summary = result.summary.to_dict()
        assert summary["best"] == {"epoch": best_epoch, "val_pgd_acc": max(pgd_accs)}
        assert [row["best"] for row in result.rows].count(True) >= 1 and result.rows[best_epoch - 1]["best"]
        assert recompute(config, result.paths.best) == as_metrics(result.rows[best_epoch - 1])
        gap = max(pgd_accs) - summary["final"]["val_pgd_acc"]
        assert summary["best_minus_final_pgd"] == pytest.approx(gap)
        assert summary["flags"]["robust_overfitting"] == (gap > config.ro_gap)
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


def test_monitor_metrics_follow_the_documented_rules_exactly(tiny_digits_model):
    """Clean, FGSM (step eps from x) and PGD-k (one uniform start from MONITOR_SEED, k steps of
    2.5 eps / k) accuracies, recomputed here by hand, equal the trainer's numbers."""
    net = tiny_digits_model
    _, val = train_val_split("digits", None, None)
    sample = monitor_points(val, 50)
    x, y, eps, steps = sample.images, sample.labels, 0.1, 3
    threat = ThreatModel("linf", eps)
    metrics = validation_metrics(net, x, y, threat, steps)

    def grad_sign(point):
        point = point.clone().requires_grad_(True)
        (grad,) = torch.autograd.grad(F.cross_entropy(net(point), y), point)
        return grad.sign()

    def accuracy(point):
        return int((net(point).argmax(1) == y).sum()) / len(y)

    x_fgsm = (x + eps * grad_sign(x)).clamp(0, 1)
    noise = torch.rand(x.shape, generator=torch.Generator().manual_seed(MONITOR_SEED)) * 2 - 1
    x_pgd = (x + eps * noise).clamp(0, 1)
    for _ in range(steps):
        x_pgd = torch.min(torch.max(x_pgd + 2.5 * eps / steps * grad_sign(x_pgd), x - eps), x + eps).clamp(
            0, 1
        )
    assert metrics == EpochMetrics(accuracy(x), accuracy(x_fgsm), accuracy(x_pgd))
    assert metrics.clean_acc > metrics.pgd_acc  # the numbers really differ: attacks did something


def test_a_run_that_never_learned_is_flagged_with_its_likely_cause():
    config = TrainConfig(optimizer="sgd", lr=0.1)
    stalled = [{"val_clean_acc": 0.10, "train_loss": 2.31}, {"val_clean_acc": 0.23, "train_loss": 2.25}]
    reason = not_learning(stalled, 10, config)
    assert "did not learn: best validation clean accuracy 0.230 (chance 0.100)" in reason
    assert "2.310 -> 2.250" in reason and "--optimizer adam --lr 1e-3" in reason
    learned = [{"val_clean_acc": 0.2, "train_loss": 2.3}, {"val_clean_acc": 0.75, "train_loss": 0.9}]
    assert not_learning(learned, 10, config) is None
    diverged = [{"val_clean_acc": 0.8, "train_loss": 1.0}, {"val_clean_acc": 0.8, "train_loss": float("nan")}]
    assert not_learning(diverged, 10, config) is not None
    assert not_learning([{"val_clean_acc": 0.59, "train_loss": 0.7}], 2, config) is not None  # 2 classes


def test_digits_gets_its_own_optimiser_defaults_and_explicit_settings_win():
    digits, cifar = TrainConfig(dataset="digits"), TrainConfig(dataset="cifar10")
    assert (digits.optimizer, digits.lr, digits.schedule, digits.batch_size) == ("adam", 1e-3, "constant", 64)
    assert (cifar.optimizer, cifar.lr, cifar.schedule, cifar.weight_decay) == ("sgd", 0.1, "piecewise", 5e-4)
    assert TrainConfig(dataset="digits", optimizer="sgd", lr=0.05).to_dict()["lr"] == 0.05
    assert TrainConfig.from_dict(digits.to_dict()) == digits  # recorded resolved: a resume sees the same
