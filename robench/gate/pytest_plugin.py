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

    def check(
        self,
        model: Any = None,
        *,
        checkpoint: str | None = None,
        arch: str | None = None,
        num_classes: int | None = None,
        dataset: Any = None,
        threat: str | None = None,
        eps: str | float | None = None,
        n: int | None = None,
        seed: int = 0,
        suite: str = "quick",
        min_clean: float | None = None,
        min_robust: float | None = None,
        max_drop: float | None = None,
        baseline: Any = None,
        require_reliable: bool = False,
        confidence: str = "point",
        confidence_level: float = 0.95,
        interval: str = "clopper-pearson",
        mean: tuple[float, ...] | None = None,
        std: tuple[float, ...] | None = None,
        name: str | None = None,
        batch_size: int | None = None,
        store: str | None = None,
        diagnostics: bool = True,
    ):
        from robench.errors import RobenchError
        from robench.gate.criteria import Thresholds
        from robench.gate.output import format_summary
        from robench.gate.run import GateTarget, run_gate

        if isinstance(model, str) or model is None:
            target = GateTarget(model=model, checkpoint=checkpoint, arch=arch, num_classes=num_classes)
        else:
            target = GateTarget(module=model, mean=mean, std=std, name=name)
        try:
            thresholds = Thresholds(
                min_clean=min_clean,
                min_robust=min_robust,
                max_drop=max_drop,
                require_reliable=require_reliable,
                confidence=confidence,
                level=confidence_level,
                method=interval,
            )
            report, _ = run_gate(
                target,
                thresholds,
                dataset=dataset,
                threat=threat,
                eps=eps,
                n=n,
                seed=seed,
                suite=suite,
                device=self.device,
                batch_size=batch_size,
                baseline=baseline,
                reuse=self.reuse,
                store=store,
                diagnostics=diagnostics,
            )
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
