"""The package layers, top to bottom: a package may import only from layers below its own, and packages
of one layer never import each other. ``tests/test_layers.py`` enforces it on every import (those inside
functions included) and docs/design.md draws it from this list."""

from __future__ import annotations

#: (packages or modules of the layer, what the layer is for), front ends first
LAYERS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("robench.__main__",), "python -m robench"),
    (("robench.cli",), "front ends: the command line and the pytest plugin"),
    (
        ("robench.pipeline",),
        "orchestration: request -> target -> probe, suite, diagnostics -> store, entry, board, report, gate",
    ),
    (("robench.gate", "robench.reports"), "gate criteria and outputs; per-model reports"),
    (("robench.leaderboard",), "entries, ranking, boards"),
    (("robench.store", "robench.training"), "the results store; the trainer"),
    (("robench.diagnostics",), "the checks and their flag declarations"),
    (("robench.engine",), "cascade runner, outcomes, identity of an evaluation"),
    (("robench.attacks", "robench.certify"), "attacks and suites; certified bounds"),
    (("robench.data", "robench.models"), "datasets; architectures, cards, checkpoints"),
    (("robench.distributed",), "torch.distributed primitives"),
    (("robench.core",), "shared primitives: seeding, costs and pass counting, verification, the record"),
    (
        ("robench.options", "robench.progress", "robench.registry", "robench.threat", "robench.layers"),
        "foundation",
    ),
    (("robench.errors",), "the user-error type"),
)
