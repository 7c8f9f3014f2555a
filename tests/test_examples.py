"""The CI example and the docs say what the code does: the workflow installs robench from the checkout
(robench is not on the package index) and runs commands that exist; the README tells a CPU-only machine
how to avoid CUDA wheels; docs/leaderboards.md names the standard suite's stage columns."""

from __future__ import annotations

import shlex
from pathlib import Path

import typer
import yaml

from robench.attacks.suites import SUITES
from robench.cli import _register_commands, app
from robench.leaderboard.table import stage_label

ROOT = Path(__file__).resolve().parents[1]
CPU_WHEELS = "pip install torch torchvision --index-url https://download.pytorch.org/whl/cpu"


def _commands(workflow: dict) -> list[list[str]]:
    """Every shell command of every step, split into words (continuation lines joined, comments dropped)."""
    commands = []
    for job in workflow["jobs"].values():
        for step in job["steps"]:
            script = step.get("run", "").replace("\\\n", " ")
            lines = [line.split(" #")[0].strip() for line in script.splitlines()]
            commands += [shlex.split(line) for line in lines if line and not line.startswith("#")]
    return commands


def test_the_workflow_installs_from_the_checkout_and_gates_with_real_options():
    workflow = yaml.safe_load((ROOT / "examples" / "github-actions-robustness.yml").read_text())
    commands = _commands(workflow)
    installs = [c for c in commands if c[:2] == ["pip", "install"]]
    assert installs and all("robench" not in c for c in installs)  # nothing from the package index
    assert (
        sum(c[2:4] == ["-e", "."] for c in installs) == 2
        and sum(" ".join(c) == CPU_WHEELS for c in installs) == 2
    )
    gate = next(c for c in commands if c[:2] == ["robench", "gate"])
    assert "--require-reliable" in gate  # as docs/gate.md recommends with the default suite
    _register_commands()
    known = {
        name for param in typer.main.get_command(app).commands["gate"].params for name in param.opts
    }  # fmt: skip
    assert [w for w in gate if w.startswith("--") and w not in known] == []
    pytest_job = [c for c in commands if c[:1] == ["pytest"]]
    assert pytest_job and any("pytest" in c for c in installs)  # pytest beside robench: the plugin's env


def test_the_readme_says_how_to_install_on_a_cpu_only_machine():
    readme = (ROOT / "README.md").read_text()
    assert f"{CPU_WHEELS} && pip install -e ." in readme and len(readme.splitlines()) <= 200
    assert "pytest must be installed in that same environment" in (ROOT / "docs" / "gate.md").read_text()


def test_docs_name_the_standard_suites_stage_columns():
    labels = ", ".join(stage_label(spec) for spec in SUITES.get("standard").attacks)
    assert f"(for `standard`: {labels};" in (ROOT / "docs" / "leaderboards.md").read_text()
