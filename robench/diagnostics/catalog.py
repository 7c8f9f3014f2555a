"""Every flag's meaning, action, severity and accuracy bounds, from the checks' own declarations."""

from __future__ import annotations

from robench.core.record import EvaluationResult, Flag
from robench.diagnostics.check import Check
from robench.diagnostics.registry import CHECKS, DEFAULT_CHECKS, PIPELINE_CHECKS


def check_of(code: str) -> Check | None:
    """The declaration of a flag code (None for a code no registered check declares, e.g. a user check's)."""
    if code not in CHECKS:
        return None
    return CHECKS.get(code)


def all_checks() -> list[Check]:
    """Every registered check, in run order."""
    return [CHECKS.get(name) for name in DEFAULT_CHECKS + PIPELINE_CHECKS]


def meaning(flag: Flag) -> tuple[str, str]:
    """(what the flag means, what to do) for a reader; an unknown code falls back to its own message."""
    check = check_of(flag.code)
    if check is None:
        return flag.message or flag.code, "See the flag's evidence in the results record."
    return check.meaning, check.action


def refresh_findings(result: EvaluationResult) -> EvaluationResult:
    """A stored record's flags say what their checks now declare they are about (records written before
    robench told model findings from evaluation findings call every flag an evaluation finding), and its
    verdict follows; an unchecked record stays unchecked."""
    for flag in result.flags:
        check = check_of(flag.code)
        if check is not None:
            flag.finding = check.finding
    return result
