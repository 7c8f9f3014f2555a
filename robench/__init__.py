"""robench: how robust is this model, really?

The Python API mirrors the CLI: ``robench.evaluate(...)`` returns the same record that
``robench evaluate`` writes. Submodules are imported on first use, so ``import robench`` is cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_API = {
    "evaluate": "robench.pipeline.evaluate:evaluate",
    "load_dataset": "robench.data:load_dataset",
    "create_model": "robench.models:create_model",
    "load_model": "robench.models.loading:load_any",
    "ThreatModel": "robench.threat:ThreatModel",
    "EvaluationResult": "robench.core.record:EvaluationResult",
    "RobenchError": "robench.errors:RobenchError",
}


def __getattr__(name: str) -> Any:
    if name not in _API:
        raise AttributeError(f"module 'robench' has no attribute '{name}'")
    module, _, attr = _API[name].partition(":")
    return getattr(importlib.import_module(module), attr)


__all__ = ["__version__", *_API]
