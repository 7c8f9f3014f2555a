"""The command line starts without torch, says usage errors in one line, and shows progress in logs."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from robench.cli import main
from robench.core.threads import available_cpus, cgroup_cpus, default_threads, use_threads
from robench.errors import RobenchError
from robench.progress import progress_bar

HELP_AND_ERRORS = """
import sys
from robench.cli import main
runs = [["--help"], *[[c, "--help"] for c in
        ("evaluate", "certify", "train", "submit", "leaderboard", "report", "demo", "gate", "models")],
        ["evaluate", "-n", "abc"], ["evaluate", "--bogus"], ["train"]]
codes = [main(args) for args in runs]
print(codes, sorted(m for m in ("torch", "torchvision", "pandas", "matplotlib") if m in sys.modules))
"""


def test_help_and_usage_errors_do_not_import_torch():
    done = subprocess.run(
        [sys.executable, "-c", HELP_AND_ERRORS], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == f"{[0] * 10 + [2, 2, 2]} []"


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["evaluate", "-n", "abc"], "invalid value for '--n' / '-n'"),
        (["evaluate", "--bogus"], "no such option: --bogus"),
        (["gate", "--min-robust", "abc"], "invalid value for '--min-robust'"),
        (["train"], "missing option '--out'"),
    ],
)
def test_usage_errors_are_one_line_with_exit_code_2(capsys, args, says):
    assert main(args) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1, err
    assert err.startswith(f"robench: error: {says}") and f"'robench {args[0]} --help'" in err


def test_progress_without_a_terminal_is_one_line_per_finished_stage(capsys, monkeypatch):
    monkeypatch.delenv("ROBENCH_PROGRESS")  # capsys' stderr is no terminal: the log form
    with progress_bar("2/3 pgd-20", total=40) as bar:
        bar.advance(30)
        bar.advance(10)
        assert capsys.readouterr().err == ""  # nothing until the stage ends
    with progress_bar("demo: models", total=2, each=True) as models:
        for name in ("standard", "pgd"):
            models.describe(f"demo: {name}")
            models.advance()
    lines = capsys.readouterr().err.splitlines()
    assert [line.rsplit(" in ", 1)[0] for line in lines] == [
        "robench: 2/3 pgd-20: 40/40", "robench: demo: standard: 1/2", "robench: demo: pgd: 2/2",
    ]  # fmt: skip
    assert all(line.endswith(" s") for line in lines)
    monkeypatch.setenv("ROBENCH_PROGRESS", "0")
    with progress_bar("quiet", total=1) as bar:
        bar.advance()
    assert capsys.readouterr().err == ""


@pytest.mark.slow
def test_evaluate_prints_its_stages_in_a_log(tiny_digits_card, capsys, monkeypatch):
    monkeypatch.setenv("ROBENCH_PROGRESS", "lines")
    args = ["evaluate", "--model", tiny_digits_card.path, "-n", "8", "--suite", "quick", "--no-diagnostics"]
    assert main([str(a) for a in args]) == 0
    err = capsys.readouterr().err
    for stage in ("clean: 8/8 in ", "1/3 fgsm: ", "2/3 pgd-20: ", "3/3 cw: "):
        assert f"\nrobench: {stage}" in err, err


def test_default_threads_share_the_allowed_cpus(monkeypatch):
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: {0, 1, 2, 3, 4, 5}, raising=False)
    monkeypatch.setattr("os.cpu_count", lambda: 8)
    monkeypatch.setattr("robench.core.threads.cgroup_cpus", lambda: None)
    monkeypatch.setattr("os.getloadavg", lambda: (0.0, 0.0, 0.0))
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.delenv("LOCAL_WORLD_SIZE", raising=False)
    assert available_cpus() == 6 and default_threads() == 6  # the 6 CPUs of the affinity mask, not 8
    monkeypatch.setattr("os.getloadavg", lambda: (4.0, 1.0, 1.0))  # other work keeps half the machine busy
    assert default_threads() == 3
    monkeypatch.setattr("os.getloadavg", lambda: (0.0, 0.0, 0.0))
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "4")  # torchrun: 4 ranks on this node share the 6 CPUs
    assert default_threads() == 1
    monkeypatch.setenv("OMP_NUM_THREADS", "3")  # given explicitly: respected
    assert default_threads() == 3


@pytest.mark.parametrize(
    ("v2", "v1", "cpus"),
    [
        ("150000 100000\n", None, 1),
        ("400000 100000\n", None, 4),
        ("max 100000\n", None, None),
        (None, ("-1", "100000"), None),
        (None, ("300000", "100000"), 3),
        (None, None, None),
    ],
)
def test_a_cgroup_cpu_quota_caps_the_cpus(tmp_path, v2, v1, cpus):
    files = [tmp_path / name for name in ("cpu.max", "cfs_quota_us", "cfs_period_us")]
    for path, text in zip(files, [v2, *(v1 or (None, None))], strict=True):
        if text is not None:
            path.write_text(text)
    assert cgroup_cpus(str(files[0]), (str(files[1]), str(files[2]))) == cpus


def test_threads_option_sets_torch_threads_and_refuses_nonsense():
    before = torch.get_num_threads()
    try:
        assert use_threads(1) == 1 and torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
    with pytest.raises(RobenchError, match=r"--threads must be a positive integer, got 0"):
        use_threads(0)
