"""Gate criteria: check an EvaluationResult against thresholds, each accuracy with its confidence interval.

``confidence`` chooses the number compared with an accuracy threshold:
  point  the measured accuracy itself (default);
  upper  the interval's upper bound: fail only when the accuracy is clearly below the threshold
         (no flaky gates on small n);
  lower  the interval's lower bound: pass only when the accuracy is clearly above the threshold.
The regression criterion (``max_drop``) takes the baseline's robust accuracy as a fixed reference and
requires the current robust accuracy, compared as above, to be at least ``baseline - max_drop``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

from robench.core.record import EvaluationResult
from robench.core.stats import METHODS, Interval, proportion_interval
from robench.errors import RobenchError
from robench.leaderboard.suites import SuiteShown
from robench.options import option

CONFIDENCE_MODES = ("point", "upper", "lower")
_TOLERANCE = 1e-12  # float noise only: 30/100 meets a 0.3 threshold


@dataclass(frozen=True)
class Thresholds:
    min_clean: float | None = field(default=None, metadata=option("lowest clean accuracy allowed (0-1)"))
    min_robust: float | None = field(
        default=None, metadata=option("lowest robust accuracy allowed: worst case over the suite (0-1)")
    )
    max_drop: float | None = field(
        default=None, metadata=option("largest robust-accuracy drop allowed below --baseline (0-1)")
    )
    require_reliable: bool = field(
        default=False,
        metadata=option("fail when the verdict is not reliable (an error flag about the evaluation)"),
    )
    confidence: str = field(
        default="point",
        metadata=option(
            "compare thresholds with the point estimate, the interval's upper bound (fail only when clearly "
            "below) or its lower bound (pass only when clearly above): point, upper or lower"
        ),
    )
    level: float = field(default=0.95, metadata=option("level of the intervals", option="--confidence-level"))
    method: str = field(
        default="clopper-pearson", metadata=option("clopper-pearson or wilson", option="--interval")
    )

    def __post_init__(self) -> None:
        for name, value in (
            ("--min-clean", self.min_clean),
            ("--min-robust", self.min_robust),
            ("--max-drop", self.max_drop),
        ):
            if value is not None and not 0 <= value <= 1:
                hint = f" (did you mean {value / 100:g}?)" if 1 < value <= 100 else ""
                raise RobenchError(f"{name} is a fraction in [0, 1], got {value:g}{hint}")
        if self.confidence not in CONFIDENCE_MODES:
            raise RobenchError(
                f"unknown --confidence '{self.confidence}' (choose {', '.join(CONFIDENCE_MODES)})"
            )
        if self.method not in METHODS:
            raise RobenchError(f"unknown --interval '{self.method}' (choose {' or '.join(METHODS)})")
        if not 0 < self.level < 1:
            raise RobenchError(f"--confidence-level must lie strictly between 0 and 1, got {self.level:g}")

    def check_given(self) -> None:
        """A gate needs at least one criterion."""
        if not (self.require_reliable or {self.min_clean, self.min_robust, self.max_drop} - {None}):
            raise RobenchError(
                "give at least one criterion: --min-clean, --min-robust, --max-drop or --require-reliable"
            )

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class CriterionResult:
    name: str  # "clean accuracy", "robust accuracy", "robust drop", "reliability"
    passed: bool
    measured: float | None
    threshold: float | None
    comparison: str  # ">=" or "<="
    interval: Interval | None = None
    compared: float | None = None  # the number actually held against the threshold
    detail: str = ""
    threshold_reference: float = 0.0  # baseline robust accuracy, for "robust drop"

    def shown_interval(self) -> tuple[float, float]:
        """The interval of the measured value (for a drop = baseline - accuracy, the bounds swap)."""
        lo, hi = self.interval.low, self.interval.high
        if self.name == "robust drop":
            return self.threshold_reference - hi, self.threshold_reference - lo
        return lo, hi

    def summary_line(self) -> str:
        status = "PASS" if self.passed else "FAIL"
        if self.name == "reliability":
            return f"{status}  {self.name:<16} {self.detail}"
        ci = ""
        if self.interval is not None:
            lo, hi = self.shown_interval()
            ci = f"  {self.interval.level:.0%} CI [{lo:.3f}, {hi:.3f}]  n={self.interval.n}"
        return f"{status}  {self.name:<16} {self.measured:.3f} {self.comparison} {self.threshold:.3f}{ci}" + (
            f"  ({self.detail})" if self.detail else ""
        )

    def to_dict(self) -> dict[str, Any]:
        data = {
            "name": self.name,
            "passed": self.passed,
            "measured": self.measured,
            "threshold": self.threshold,
            "comparison": self.comparison,
            "compared": self.compared,
            "detail": self.detail,
            "summary": self.summary_line(),
        }
        if self.interval is not None:
            i = self.interval
            data["interval"] = {
                "low": i.low,
                "high": i.high,
                "level": i.level,
                "method": i.method,
                "successes": i.successes,
                "n": i.n,
            }
            data["measured_interval"] = list(self.shown_interval())  # of the drop, for "robust drop"
        return data


@dataclass
class GateReport:
    result: EvaluationResult
    thresholds: Thresholds
    criteria: list[CriterionResult] = field(default_factory=list)
    reused: bool = False
    baseline: str | None = None  # where the baseline came from

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.criteria)

    @property
    def exit_code(self) -> int:
        return 0 if self.passed else 1

    def failures(self) -> list[CriterionResult]:
        return [c for c in self.criteria if not c.passed]


def count_correct(result: EvaluationResult) -> tuple[int, int]:
    """(clean-correct, robust) point counts of the record (from its samples when it has them)."""
    return round(result.clean_acc * result.n), round(result.robust_acc * result.n)


def check_result(
    result: EvaluationResult,
    thresholds: Thresholds,
    baseline: EvaluationResult | None = None,
) -> list[CriterionResult]:
    """One CriterionResult per requested criterion, in a fixed order: clean, robust, drop, reliability."""
    if result.n <= 0:
        raise RobenchError("the evaluation result has no points (n = 0); nothing to gate on")
    clean_k, robust_k = count_correct(result)
    out: list[CriterionResult] = []
    if thresholds.min_clean is not None:
        out.append(_at_least("clean accuracy", clean_k, result.n, thresholds.min_clean, thresholds))
    if thresholds.min_robust is not None:
        out.append(_at_least("robust accuracy", robust_k, result.n, thresholds.min_robust, thresholds))
    if thresholds.max_drop is not None:
        if baseline is None:
            raise RobenchError("--max-drop needs a --baseline (a leaderboard entry or a results JSON)")
        check_comparable(result, baseline)
        floor = baseline.robust_acc - thresholds.max_drop
        base = _at_least("robust drop", robust_k, result.n, floor, thresholds)
        out.append(
            CriterionResult(
                name="robust drop",
                passed=base.passed,
                measured=baseline.robust_acc - robust_k / result.n,
                threshold=thresholds.max_drop,
                comparison="<=",
                interval=base.interval,
                compared=None if base.compared is None else baseline.robust_acc - base.compared,
                detail=f"baseline robust accuracy {baseline.robust_acc:.3f}" + _mode_note(thresholds),
                threshold_reference=baseline.robust_acc,
            )
        )
    if thresholds.require_reliable:
        out.append(_reliability(result))
    return out


def _at_least(name: str, k: int, n: int, threshold: float, thresholds: Thresholds) -> CriterionResult:
    interval = proportion_interval(k, n, thresholds.level, thresholds.method)
    compared = {"point": interval.estimate, "upper": interval.high, "lower": interval.low}[
        thresholds.confidence
    ]
    return CriterionResult(
        name=name,
        passed=compared >= threshold - _TOLERANCE,
        measured=interval.estimate,
        threshold=threshold,
        comparison=">=",
        interval=interval,
        compared=compared,
        detail=_mode_note(thresholds).removeprefix("; "),
    )


def _mode_note(thresholds: Thresholds) -> str:
    if thresholds.confidence == "point":
        return ""
    return f"; gated on the interval's {thresholds.confidence} bound"


def _reliability(result: EvaluationResult) -> CriterionResult:
    # a model finding (the model is broken; its number stands) is no doubt about the evaluation
    errors = [f for f in result.flags if f.severity == "error" and f.finding != "model"]
    if result.verdict == "unchecked" and not errors:
        detail = "diagnostics did not run (verdict unchecked), so reliability cannot be confirmed"
        passed = False
    elif errors:
        detail = f"{len(errors)} error flag(s): " + "; ".join(f"{f.code}: {f.message}" for f in errors)
        passed = False
    else:
        warned = sum(f.severity == "warning" for f in result.flags)
        detail = f"verdict {result.verdict}, no error flags" + (f" ({warned} warning(s))" if warned else "")
        passed = True
    return CriterionResult(
        name="reliability",
        passed=passed,
        measured=float(len(errors)),
        threshold=0.0,
        comparison="<=",
        detail=detail,
    )


def check_comparable(result: EvaluationResult, baseline: EvaluationResult) -> None:
    """A baseline must share dataset, threat and eps; a different suite or subset only warns."""
    for what in ("dataset", "threat"):
        if getattr(result, what) != getattr(baseline, what):
            raise RobenchError(
                f"the baseline was evaluated on {what} '{getattr(baseline, what)}', "
                f"this run on '{getattr(result, what)}': they cannot be compared"
            )
    if abs(result.eps - baseline.eps) > 1e-9:
        raise RobenchError(f"the baseline was evaluated at eps {baseline.eps:g}, this run at {result.eps:g}")
    suite, base_suite = SuiteShown.of(result), SuiteShown.of(baseline)
    if (suite.name, suite.version, suite.digest) != (base_suite.name, base_suite.version, base_suite.digest):
        warnings.warn(
            f"the baseline used suite {base_suite.label}, this run {suite.label}: robust accuracies from "
            "different suites are not strictly comparable",
            stacklevel=2,
        )
    if baseline.subset_sha256 and baseline.subset_sha256 != result.subset_sha256:
        warnings.warn(
            "the baseline was evaluated on different points (subset hash differs); the drop includes "
            "sampling noise",
            stacklevel=2,
        )
