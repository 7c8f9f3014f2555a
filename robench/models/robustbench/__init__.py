"""RobustBench's model zoo as a model source: ``robustbench:<dataset>/<threat>/<name>``.

The architecture is built by the ``robustbench`` package's own zoo code (the optional extra
``robench[robustbench]``, imported only when such a model is asked for: robench.models.robustbench.imports);
the weights are read by robench from RobustBench's cache layout with ``weights_only=True``
(robench.models.robustbench.entries) and fitted with RobustBench's own key handling
(robench.models.robustbench.weights). Format and options: docs/evaluate.md#robustbench-zoo-models.
"""

from __future__ import annotations

from robench.models.robustbench.entries import PREFIX, is_zoo_name

__all__ = ["PREFIX", "is_zoo_name"]
