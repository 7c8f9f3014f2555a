"""CI gating on robust accuracy: ``robench gate`` and the ``robench_gate`` pytest fixture.

stats (confidence intervals) → criteria (thresholds, pass/fail) → output (summary, JSON, JUnit);
baseline loads regression baselines; run evaluates or reuses a stored result (``run_gate``).
Nothing heavy is imported here: the pytest plugin loads this package in every pytest run.
"""
