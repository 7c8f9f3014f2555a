"""``certified_but_broken``: a point that a certificate proves robust and that an attack broke (or that
the record counts as misclassified) is impossible; one of the two is wrong, and the evaluation with it.

Raised by the pipeline after the suite, the diagnostics and the certification have all run
(``robench.pipeline.certify``), from the record alone: no model call.
"""

from __future__ import annotations

from robench.core.record import EvaluationResult, Flag
from robench.diagnostics.check import Check

CODE = "certified_but_broken"
EXAMPLES = 10  # indices shown in the evidence per bound


def contradictions(result: EvaluationResult) -> list[Flag]:
    """The flag (at most one) for points certified by some bound and yet not robust in the record."""
    samples = {s.index: s for s in result.samples}
    evidence: dict = {"eps": result.eps, "points": 0, "by_method": {}, "broken_by": {}}
    bad: set[int] = set()
    for cert in result.certificates:
        if cert.certified is None:
            continue
        wrong = sorted(i for i in cert.certified if i in samples and not samples[i].robust)
        if wrong:
            evidence["by_method"][cert.method] = {"points": len(wrong), "examples": wrong[:EXAMPLES]}
            bad.update(wrong)
    if not bad:
        return []
    evidence["points"] = len(bad)
    for i in sorted(bad)[:EXAMPLES]:
        evidence["broken_by"][str(i)] = samples[i].broken_by or "clean (misclassified)"
    example, methods = min(bad), ", ".join(sorted(evidence["by_method"]))
    message = (
        f"{len(bad)} points are certified robust by {methods} and yet broken "
        f"(e.g. index {example} by {evidence['broken_by'][str(example)]}): the certifier or the attack's "
        "verification is wrong. This is a bug of the evaluation."
    )
    return [CHECK.flag(message, evidence)]


CHECK = Check(
    code=CODE,
    severity="error",
    meaning="A point is both certified robust (a sound bound proves that no input of the eps ball changes "
    "its prediction) and broken by a verified attack, or misclassified on clean input. Both cannot be "
    "true: the certifier is unsound, the attack's adversarial example was accepted wrongly, or the "
    "certificate and the attack saw different models, eps or inputs. Neither number can be trusted.",
    action="Report it with the results file: the evidence names the points and the attack that broke them. "
    "Certify and attack the same model, points and eps again to see which side is wrong.",
    run=None,
)
