"""How numbers look on boards and reports (shared by the md and html renderers)."""

from __future__ import annotations

import math


def pct(value: float | None, digits: int = 1) -> str:
    """0.4567 -> '45.7'; missing -> '–'."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{100 * value:.{digits}f}"


def eps_text(eps: float) -> str:
    """0.3 -> '0.3'; 8/255 (0.0313725...) -> '8/255'; anything else -> its short repr."""
    short = f"{eps:.4g}"
    if float(short) == eps:
        return short
    k = round(eps * 255)
    return f"{k}/255" if k > 0 and k / 255 == eps else f"{eps:g}"


def count_text(value: int | float) -> str:
    """1234567 -> '1.23M'."""
    value = float(value)
    for limit, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= limit:
            return f"{value / limit:.3g}{suffix}"
    return f"{value:.0f}"
