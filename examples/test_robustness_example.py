"""A project's robustness test through robench's pytest plugin (the ``robench_gate`` fixture).

Run with ``pytest examples/test_robustness_example.py``; the plugin is registered when robench is installed.
"""


def test_pgd_model_keeps_its_robustness(robench_gate):
    report = robench_gate.check("digits/linf/pgd", eps=0.3, n=100, min_clean=0.8, min_robust=0.2)
    assert report.result.verdict != "unreliable"


def test_my_module_is_accurate(robench_gate):
    from robench.models.loading import load_model

    module = load_model("digits/linf/pgd").module  # any nn.Module taking [0, 1] inputs
    robench_gate.check(module, dataset="digits", eps=0.3, n=100, min_clean=0.8, confidence="upper")
