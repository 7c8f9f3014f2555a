"""AutoAttack (Croce & Hein 2020) through pyautoattack, not re-implemented.

``autoattack``: version 'standard' (APGD-CE, APGD-T, FAB-T, Square); ``autoattack-rand``: version 'rand'
(APGD-CE and APGD-DLR with EOT over 20 samples) for randomised models. It runs on exactly the points
given, as one pyautoattack batch, and returns pyautoattack's x_adv. Its seed is ``batch_seed(seeds)``:
AutoAttack's randomness is per call, so unlike robench's own attacks its result for a point can depend
on which points share its batch (fixed batches reproduce exactly): the engine therefore calls it on
fixed blocks of evaluation points (``Attack.batch_random``). Its log is kept as text in
``last_log`` and re-emitted at DEBUG level on the ``robench.attacks`` logger.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch
from torch import nn

from robench.attacks.external import PyAutoAttackAttack
from robench.errors import AttackError
from robench.threat import ThreatModel

VERSIONS = ("standard", "rand")
SQUARE_QUERIES = 5000  # AutoAttack standard's Square, on every point its gradient attacks left


class AutoAttack(PyAutoAttackAttack):
    family = "autoattack"

    def __init__(self, threat: ThreatModel, spec: str | None = None, *, version: str = "standard") -> None:
        super().__init__(threat, spec)
        if version not in VERSIONS:
            raise AttackError(f"autoattack version must be one of {', '.join(VERSIONS)}, not '{version}'")
        self.version = version
        self.square_queries = SQUARE_QUERIES if version == "standard" else 0

    def run(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor, seed: int) -> torch.Tensor:
        from pyautoattack import AutoAttack as PyAutoAttack

        runner = PyAutoAttack(
            model, norm=self.aa_norm, eps=self.threat.eps, version=self.version, seed=seed, device=x.device
        )
        with targets_fitted_to_classes(runner):
            x_adv, _ = runner.run_standard_evaluation(x, y, batch_size=x.shape[0])
        return x_adv


@contextlib.contextmanager
def targets_fitted_to_classes(runner) -> Iterator[None]:
    """AutoAttack's targeted attacks take 9 target classes, which a model with fewer than 10 classes does
    not have (pyautoattack then fails with an IndexError). pyautoattack counts the classes on the forward
    it already makes for its checks: at that point, targets become min(9, classes - 1), and APGD-T, whose
    targeted DLR loss needs 4 classes, is skipped below that (FAB-T and Square still run)."""
    from pyautoattack import checks

    original = checks.check_n_classes

    def fitted(n_cls, attacks_to_run, apgd_targets, fab_targets, logger=None):
        runner.fab.n_target_classes = min(runner.fab.n_target_classes, n_cls - 1)
        targets = runner.apgd_targeted.n_target_classes
        runner.apgd_targeted.n_target_classes = min(targets, n_cls - 1) if n_cls >= 4 else 0
        fitted_targets = (runner.apgd_targeted.n_target_classes, runner.fab.n_target_classes)
        return original(
            n_cls, [a for a in attacks_to_run if a != "apgd-t" or n_cls >= 4], *fitted_targets, logger
        )

    checks.check_n_classes = fitted
    try:
        yield
    finally:
        checks.check_n_classes = original


class AutoAttackRand(AutoAttack):
    family = "autoattack-rand"

    def __init__(self, threat: ThreatModel, spec: str | None = None) -> None:
        super().__init__(threat, spec, version="rand")
