"""The computed reliability verdict, which speaks to the number: any error flag about the evaluation
(its number may be wrong) makes it unreliable; a model finding (the model is broken, e.g. catastrophic
overfitting: the number stands) is shown beside the verdict and leaves it alone."""

from __future__ import annotations

from collections.abc import Iterable

from robench.core.record import Flag, verdict_of


def verdict(flags: Iterable[Flag]) -> str:
    """The verdict of a checked evaluation with these flags (``EvaluationResult.verdict`` derives it)."""
    return verdict_of(flags, checked=True)


def model_findings(flags: Iterable[Flag]) -> list[str]:
    """The codes of the error flags about the model (shown beside the verdict), in order, once each."""
    return list(dict.fromkeys(f.code for f in flags if f.severity == "error" and f.finding == "model"))


def verdict_text(result) -> str:
    """The verdict as a reader sees it: with the model findings beside it, saying the number stands."""
    findings = model_findings(result.flags)
    if not findings:
        return result.verdict
    reliable = result.verdict == "reliable"
    stands = f"the {100 * result.robust_acc:.1f} % stands" if reliable else "see its flags"
    return f"{result.verdict} ({stands}; model finding: {', '.join(findings)})"
