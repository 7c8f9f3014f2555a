"""pytest plugin (registered through the ``pytest11`` entry point): robustness assertions in tests.

    def test_model_is_robust(robench_gate):
        robench_gate.check("digits/linf/pgd", eps=0.3, n=100, min_robust=0.2)

``check`` takes a card id, or an ``nn.Module`` with ``dataset=`` (and ``mean``/``std`` when the module
does not normalise itself), plus the options of ``robench gate``; it fails the test with the gate's
summary (values, thresholds, intervals) and returns the report when every criterion passes.
Command-line options: ``--robench-device`` (default cpu), ``--robench-no-reuse``.

This module is imported by every pytest run in an environment where robench is installed, so it
imports nothing heavy at module level.
"""

from __future__ import annotations

from typing import Any

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("robench", "robench robustness gate")
    group.addoption("--robench-device", default="cpu", help="device for robench_gate evaluations")
    group.addoption(
        "--robench-no-reuse", action="store_true", help="re-evaluate instead of reusing stored results"
    )


class RobustnessGate:
    """The ``robench_gate`` fixture's object; ``reports`` keeps every report of the test."""

    def __init__(self, device: str = "cpu", reuse: bool = True) -> None:
        self.device, self.reuse = device, reuse
        self.reports: list[Any] = []

    def check(self, model: Any = None, **options: Any):
        """Gate ``model`` (a card id, or an nn.Module with ``dataset=``) with the options of ``robench gate``.

        Model: ``checkpoint``, ``arch``, ``num_classes``, ``mean``, ``std``, ``name``. Criteria:
        ``min_clean``, ``min_robust``, ``max_drop`` + ``baseline``, ``require_reliable``, ``confidence``,
        ``confidence_level``, ``interval``. Run: ``dataset``, ``threat``, ``eps``, ``n``, ``seed``,
        ``suite`` (default fast), ``batch_size``, ``store``, ``diagnostics``, ``split``, ``data_root``.
        """
        from robench.errors import RobenchError
        from robench.gate.output import format_summary
        from robench.pipeline.gate import check_model

        try:
            report, _ = check_model(model, device=self.device, reuse=self.reuse, **options)
        except RobenchError as exc:
            pytest.fail(f"robench gate could not run: {exc}", pytrace=False)
        self.reports.append(report)
        if not report.passed:
            pytest.fail(format_summary(report), pytrace=False)
        return report


@pytest.fixture
def robench_gate(request: pytest.FixtureRequest) -> RobustnessGate:
    """Assert a model's clean/robust accuracy: ``robench_gate.check(model, eps=..., min_robust=...)``."""
    config = request.config
    return RobustnessGate(
        device=config.getoption("robench_device"), reuse=not config.getoption("robench_no_reuse")
    )
