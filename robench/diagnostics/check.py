"""A diagnostic check declares every fact about its flag in one place; reports, ranking, the CLI and the
docs' flag table are rendered from these declarations (``robench.diagnostics.catalog``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from robench.core.record import Flag

SEVERITIES = ("error", "warning", "info")


@dataclass(frozen=True)
class Check:
    code: str
    severity: str  # of the flag it raises: "error" makes the evaluation unreliable
    meaning: str  # what the flag says about the evaluation, for a reader of a report
    action: str  # what to do about it
    run: Callable[[Any], list[Flag]] | None = None  # ``run(ctx) -> flags``; None: raised by the pipeline
    #: evidence keys that hold a robust accuracy measured at the evaluated eps (an upper bound on the
    #: true robust accuracy): an unreliable entry is ranked by the lowest of them and its worst case
    bounds: tuple[str, ...] = ()
    #: evidence keys (eps list, accuracy list) of an eps sweep the check measured, for the report's plot
    curve: tuple[str, str] | None = None
    #: a suite's escalation for this flag (its attacks on every survivor, folded in) answers it: the flag
    #: is then kept as a warning that says what the escalation broke
    resolved_by_escalation: bool = False

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"check {self.code}: severity must be one of {SEVERITIES}")

    def flag(self, message: str, evidence: dict[str, Any] | None = None) -> Flag:
        return Flag(self.code, self.severity, message, dict(evidence or {}))

    def robust_bounds(self, flag: Flag, eps: float) -> Iterable[tuple[str, float]]:
        """(evidence key, accuracy) of each bound in the flag's evidence measured at ``eps``."""
        evidence = flag.evidence or {}
        measured_eps = evidence.get("eps")
        if isinstance(measured_eps, int | float) and abs(float(measured_eps) - eps) > 1e-9:
            return
        for key in self.bounds:
            value = evidence.get(key)
            if isinstance(value, int | float) and not isinstance(value, bool) and 0.0 <= value <= 1.0:
                yield key, float(value)

    def eps_curve(self, flag: Flag) -> tuple[list[float], list[float]] | None:
        if self.curve is None:
            return None
        eps, acc = (flag.evidence or {}).get(self.curve[0]), (flag.evidence or {}).get(self.curve[1])
        if isinstance(eps, list) and isinstance(acc, list) and len(eps) == len(acc) >= 2:
            return [float(e) for e in eps], [float(a) for a in acc]
        return None
