"""A diagnostic check declares every fact about its flag in one place; reports, ranking, the CLI and the
docs' flag table are rendered from these declarations (``robench.diagnostics.catalog``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from robench.core.record import FINDINGS, Flag
from robench.core.stats import SIGNIFICANCE

if TYPE_CHECKING:
    from robench.diagnostics.context import DiagnosticContext

SEVERITIES = ("error", "warning", "info")


@dataclass(frozen=True)
class Check:
    code: str
    severity: str  # of the flag it raises: "error" makes the evaluation unreliable
    meaning: str  # what the flag says about the evaluation, for a reader of a report
    action: str  # what to do about it
    #: ``run(ctx) -> flags`` on a DiagnosticContext; None: raised by the pipeline
    run: Callable[[DiagnosticContext], list[Flag]] | None = None
    #: evidence keys that hold a robust accuracy measured at the evaluated eps (an upper bound on the
    #: true robust accuracy): an unreliable entry is ranked by the lowest of them and its worst case
    bounds: tuple[str, ...] = ()
    #: evidence keys (eps list, accuracy list) of an eps sweep the check measured, for the report's plot
    curve: tuple[str, str] | None = None
    #: a suite's escalation for this flag (its attacks on every survivor, folded in) answers it: the flag
    #: is then kept as a warning that says what the escalation broke
    resolved_by_escalation: bool = False
    #: what the flag is about: "evaluation" (the number may be wrong: masking, unconverged attacks) or
    #: "model" (the model is broken, e.g. catastrophic overfitting: the number stands, and the verdict,
    #: which speaks to the number, leaves it beside itself)
    finding: str = "evaluation"

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"check {self.code}: severity must be one of {SEVERITIES}")
        if self.finding not in FINDINGS:
            raise ValueError(f"check {self.code}: finding must be one of {FINDINGS}")

    def flag(self, message: str, evidence: dict[str, Any] | None = None) -> Flag:
        return Flag(self.code, self.severity, message, dict(evidence or {}), self.finding)

    def decide(self, message: str, evidence: dict[str, Any], p_value: float) -> Flag:
        """The flag of a comparison of accuracies decided by an exact test (robench.core.stats): its
        severity when ``p_value`` is below ``SIGNIFICANCE``, else a warning that there are too few points
        to decide (the evidence keeps the p-value and the level)."""
        evidence = {**evidence, "p_value": round(p_value, 6), "level": SIGNIFICANCE}
        if p_value < SIGNIFICANCE:
            return self.flag(message, evidence)
        why = f"p = {p_value:.2g}, not below {SIGNIFICANCE:g}; evaluate more points"
        undecided = f"Too few points to decide ({why}): {message}"
        return Flag(self.code, "warning", undecided, evidence, self.finding)

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
