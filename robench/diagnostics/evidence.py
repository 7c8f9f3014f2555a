"""One-line rendering of a flag's evidence, for the CLI and reports."""

from __future__ import annotations

from typing import Any

MAX_ITEMS = 6


def format_evidence(evidence: dict[str, Any]) -> str:
    """``{"fgsm_acc": 0.55, "pgd20_acc": 0.0333}`` -> ``fgsm_acc=0.55 pgd20_acc=0.0333``."""
    return " ".join(f"{key}={_value(value)}" for key, value in evidence.items())


def _value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (list, tuple)):
        shown = ",".join(_value(v) for v in value[:MAX_ITEMS])
        return f"[{shown}{',…' if len(value) > MAX_ITEMS else ''}]"
    if isinstance(value, dict):
        return "{" + ",".join(f"{k}:{_value(v)}" for k, v in value.items()) + "}"
    return str(value)
