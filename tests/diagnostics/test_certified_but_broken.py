"""``certified_but_broken``: declared once as a Check the pipeline raises, and raised from the record alone
for exactly the points that are certified and not robust."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "leaderboard"))
from synthetic_records import build_result  # noqa: E402

from robench.core.record import CertificateSummary  # noqa: E402
from robench.diagnostics.catalog import all_checks, check_of  # noqa: E402
from robench.diagnostics.checks.certified_but_broken import contradictions  # noqa: E402
from robench.diagnostics.registry import DEFAULT_CHECKS, PIPELINE_CHECKS  # noqa: E402


def _record(certified: list[int]):
    # 20 points at indices 0, 5, ..., 95: 18 clean-correct, the first 9 robust (0..40), 45..85 broken by
    # autoattack, 90 and 95 misclassified
    result = build_result("pgd", 0.9, [0.6, 0.55, 0.5, 0.5, 0.45, 0.45])
    result.certificates = [CertificateSummary("ibp", "ibp", "linf", 0.3, 20, len(certified), certified)]
    return result


def test_it_is_a_pipeline_check_with_its_meaning_declared():
    check = check_of("certified_but_broken")
    assert "certified_but_broken" in PIPELINE_CHECKS and "certified_but_broken" not in DEFAULT_CHECKS
    assert check.run is None and check.severity == "error" and check in all_checks()
    assert "unsound" in check.meaning and check.action


def test_certified_robust_points_raise_nothing():
    assert contradictions(_record([0, 5, 40])) == []


def test_certified_points_that_were_broken_or_misclassified_are_flagged():
    (flag,) = contradictions(_record([0, 45, 50, 95]))
    assert flag.code == "certified_but_broken" and flag.severity == "error"
    assert flag.evidence["points"] == 3
    assert flag.evidence["by_method"] == {"ibp": {"points": 3, "examples": [45, 50, 95]}}
    assert flag.evidence["broken_by"] == {
        "45": "autoattack",
        "50": "autoattack",
        "95": "clean (misclassified)",
    }
    assert "index 45 by autoattack" in flag.message


def test_an_entry_without_indices_cannot_be_checked_and_is_not_flagged():
    result = _record([45])
    result.certificates[0].certified = None  # a leaderboard entry keeps the count only
    assert contradictions(result) == []
