"""The pytest plugin from a separate test file, run by pytester: passing, failing and misused checks."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]

USER_TESTS = """
from robench.models.loading import load_model


def test_pgd_model_is_robust(robench_gate):
    report = robench_gate.check("digits/linf/pgd", eps=0.3, n=60, min_robust=0.1)
    assert report.passed and report.result.n == 60


def test_standard_model_is_not_robust(robench_gate):
    robench_gate.check(
        "digits/linf/standard", eps=0.3, n=60, min_clean=0.5, min_robust=0.1, diagnostics=False
    )


def test_a_plain_module(robench_gate):
    module = load_model("digits/linf/pgd").module
    report = robench_gate.check(module, dataset="digits", eps=0.3, n=60, min_clean=0.5, diagnostics=False)
    assert report.result.checkpoint_sha256 is None


def test_misuse(robench_gate):
    robench_gate.check("digits/linf/pgd", n=60)
"""


def test_plugin_fixture_from_a_user_test_file(pytester, monkeypatch, tmp_path):
    monkeypatch.setenv("ROBENCH_STORE", str(tmp_path / "store.sqlite"))
    monkeypatch.setenv(
        "ROBENCH_MODELS", str(__import__("pathlib").Path(__file__).resolve().parents[2] / "models")
    )
    pytester.makepyfile(test_user_model=USER_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-v")  # a fresh process: no reimports
    result.assert_outcomes(passed=2, failed=2)
    result.stdout.fnmatch_lines_random(
        [
            "*::test_pgd_model_is_robust PASSED*",
            "*::test_standard_model_is_not_robust FAILED*",
            "*::test_a_plain_module PASSED*",
            "*::test_misuse FAILED*",
        ]
    )
    text = result.stdout.str()
    # the failure message is the gate summary: value, threshold, interval, verdict
    assert "FAIL  robust accuracy" in text and "PASS  clean accuracy" in text and "95% CI [" in text
    assert "robench gate could not run: give at least one criterion" in text
    assert "Traceback" not in text
