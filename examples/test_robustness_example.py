"""A project's robustness test through robench's pytest plugin (the ``robench_gate`` fixture).

Run with ``pytest examples/test_robustness_example.py``; the plugin is registered when robench is
installed. ``check`` fails the test with the gate's summary (values, thresholds, 95% intervals) when a
criterion is not met, and returns the report otherwise.
"""


def test_pgd_model_keeps_its_robustness(robench_gate):
    report = robench_gate.check("digits/linf/pgd", eps=0.3, n=100, min_clean=0.6, min_robust=0.15)
    print("\n".join(c.summary_line() for c in report.criteria))


def test_my_module_is_accurate(robench_gate):
    from robench.models.loading import load_model

    module = load_model("digits/linf/pgd").module  # any nn.Module taking [0, 1] inputs
    robench_gate.check(module, dataset="digits", eps=0.3, n=100, min_clean=0.6, confidence="upper")
