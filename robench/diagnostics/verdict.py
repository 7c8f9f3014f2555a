"""The computed reliability verdict: any flag of severity "error" makes an evaluation unreliable."""

from __future__ import annotations

from collections.abc import Iterable

from robench.core.record import Flag


def verdict(flags: Iterable[Flag]) -> str:
    return "unreliable" if any(flag.severity == "error" for flag in flags) else "reliable"
