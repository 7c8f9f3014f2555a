"""``autoattack-t``: AutoAttack standard without its first attack, APGD-CE, through pyautoattack.

The rest of AutoAttack standard as it is, with its settings: APGD-T (targeted DLR, 9 target classes,
100 iterations), FAB-T (9 targets, 100 iterations), Square (5000 queries), each on the points still
robust (``AutoAttack(version='custom', attacks=['apgd-t', 'fab-t', 'square'])``, with the restarts of
the standard version: 1 each). For suites whose earlier stages already ran cross-entropy PGD with
restarts on these points: the stage then completes AutoAttack instead of repeating its APGD-CE, and its
column is comparable to AutoAttack standard's only behind such a CE stage. ``standard`` does not use it:
behind its ladder (with pgd-100x2) on the catastrophically overfitted ``fgsm`` digits model at eps 0.2,
this stage cost more than the whole ``autoattack`` stage (0.961 vs 0.912 x AutoAttack alone: APGD-CE
breaks cheaply points APGD-T then pays nine targets for) and left 1.67 points more robust than
AutoAttack alone. Randomness per call (``batch_random``), like ``autoattack``.
"""

from __future__ import annotations

import torch
from torch import nn

from robench.attacks.autoattack import SQUARE_QUERIES, targets_fitted_to_classes
from robench.attacks.external import PyAutoAttackAttack

ATTACKS = ["apgd-t", "fab-t", "square"]


class AutoAttackTail(PyAutoAttackAttack):
    family = "autoattack-t"
    square_queries = SQUARE_QUERIES

    def run(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor, seed: int) -> torch.Tensor:
        from pyautoattack import AutoAttack as PyAutoAttack

        runner = PyAutoAttack(
            model,
            norm=self.aa_norm,
            eps=self.threat.eps,
            version="custom",
            attacks=list(ATTACKS),
            seed=seed,
            device=x.device,
        )
        runner.apgd_targeted.n_restarts, runner.apgd_targeted.n_target_classes = 1, 9
        runner.fab.n_restarts, runner.fab.n_target_classes = 1, 9
        runner.square.n_queries = SQUARE_QUERIES
        with targets_fitted_to_classes(runner):
            x_adv, _ = runner.run_standard_evaluation(x, y, batch_size=x.shape[0])
        return x_adv
