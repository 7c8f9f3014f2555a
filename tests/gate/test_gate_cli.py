"""`robench gate` on the shipped digits zoo: exit codes 0 (pass), 1 (fail), 2 (usage/input error),
reuse of stored results, the regression gate and the JUnit/JSON outputs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from xsd_subset import Schema

from robench.cli import main
from robench.store import ResultsStore

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
PGD = ["--model", "digits/linf/pgd", "--eps", "0.3", "--n", "60"]
STANDARD = ["--model", "digits/linf/standard", "--eps", "0.3", "--n", "60", "--no-diagnostics"]


def gate(capsys, store, *args):
    code = main(["gate", *args, "--store", str(store)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_robust_model_passes_with_json_and_junit(gate_store, capsys, tmp_path):
    junit = tmp_path / "gate.xml"
    args = ["--min-clean", "0.5", "--min-robust", "0.1", "--json", "--junit", str(junit)]
    code, out, err = gate(capsys, gate_store, *PGD, *args)
    assert code == 0, err
    summary = json.loads(out)
    assert summary["passed"] and summary["suite"]["name"] == "fast" and summary["verdict"] != "unchecked"
    robust = summary["criteria"][1]
    assert robust["name"] == "robust accuracy" and robust["measured"] == pytest.approx(summary["robust_acc"])
    assert robust["interval"]["low"] < robust["measured"] < robust["interval"]["high"]
    assert robust["interval"]["successes"] == round(60 * summary["robust_acc"])
    assert "PASS  robust accuracy" in err and "95% CI [" in err
    root = ET.parse(junit).getroot()
    assert Schema(Path(__file__).with_name("junit.xsd")).errors(root) == []
    assert root.find("testsuite").get("failures") == "0"
    # --require-reliable follows the stored verdict: exit 1 and the flag codes when it is unreliable
    code, out, _ = gate(capsys, gate_store, *PGD, "--require-reliable", "--json")
    summary = json.loads(out)
    errors = [f["code"] for f in summary["flags"] if f["severity"] == "error"]
    assert summary["reused"] and code == (0 if summary["verdict"] == "reliable" else 1)
    reliability = summary["criteria"][0]
    assert reliability["name"] == "reliability" and all(c in reliability["detail"] for c in errors)


def test_non_robust_model_fails_with_exit_1(gate_store, capsys, tmp_path):
    junit = tmp_path / "gate.xml"
    code, out, _ = gate(
        capsys, gate_store, *STANDARD, "--min-clean", "0.5", "--min-robust", "0.1", "--junit", str(junit)
    )
    assert code == 1
    assert "PASS  clean accuracy" in out and "FAIL  robust accuracy" in out and "FAILED (1 of 2)" in out
    failures = ET.parse(junit).getroot().findall(".//failure")
    assert len(failures) == 1 and "robust accuracy" in failures[0].get("message")
    assert Schema(Path(__file__).with_name("junit.xsd")).errors(ET.parse(junit).getroot()) == []


def test_second_run_reuses_the_stored_result_unless_told_not_to(gate_store, capsys):
    code, out, _ = gate(capsys, gate_store, *STANDARD, "--min-clean", "0.5")
    assert code == 0 and "reused stored result" in out
    code, out, _ = gate(capsys, gate_store, *STANDARD, "--min-clean", "0.5", "--no-reuse")
    assert code == 0 and "evaluated now" in out
    # a stored run without diagnostics is not reused when reliability is required
    with ResultsStore(gate_store) as results:
        runs = [r for r in results.runs() if r.model == "digits/linf/standard"]
    assert len(runs) == 2 and {r.verdict for r in runs} == {"unchecked"}


def test_regression_gate_against_a_baseline_results_json(gate_store, capsys, tmp_path):
    code, out, _ = gate(capsys, gate_store, *PGD, "--min-robust", "0", "--json")
    robust = json.loads(out)["robust_acc"]
    baseline = tmp_path / "pgd.json"
    with ResultsStore(gate_store) as results:
        run = [r for r in results.runs() if r.model == "digits/linf/pgd"][-1]
        results.get(run.id).to_json(baseline)
    code, out, _ = gate(capsys, gate_store, *STANDARD, "--baseline", str(baseline), "--max-drop", "0.05")
    assert code == 1 and "FAIL  robust drop" in out and f"baseline robust accuracy {robust:.3f}" in out
    code, out, _ = gate(capsys, gate_store, *PGD, "--baseline", str(baseline), "--max-drop", "0")
    assert code == 0 and "PASS  robust drop" in out and "0.000 <= 0.000" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--model", "digits/linf/nope", "--min-robust", "0.1"], "nope"),
        ([*PGD], "at least one criterion"),
        ([*PGD, "--min-robust", "30"], "did you mean 0.3"),
        ([*PGD, "--max-drop", "0.1"], "--baseline"),
        ([*PGD, "--min-robust", "0.1", "--eps", "abc"], "not a number"),
        ([*PGD, "--max-drop", "0.1", "--baseline", "missing.json"], "missing.json"),
        ([*PGD, "--require-reliable", "--no-diagnostics"], "--no-diagnostics"),
        ([*PGD, "--min-robust", "0.1", "--suite", "nosuchsuite"], "nosuchsuite"),
    ],
)
def test_usage_and_input_errors_exit_2(gate_store, capsys, args, message):
    code, out, err = gate(capsys, gate_store, *args)
    assert code == 2 and out == ""
    assert err.startswith("robench: error:") and message in err and "Traceback" not in err


def test_console_script_exit_code(gate_store):
    """The `robench` command itself returns the gate's exit code (reusing the stored run)."""
    command = [
        sys.executable,
        "-m",
        "robench",
        "gate",
        *STANDARD,
        "--min-robust",
        "0.5",
        "--store",
        str(gate_store),
    ]
    env = os.environ | {"OMP_NUM_THREADS": "1"}
    proc = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=env, check=False)
    assert proc.returncode == 1, proc.stderr
    assert "FAIL  robust accuracy" in proc.stdout


def test_malformed_option_values_exit_2(capsys):
    assert main(["gate", "--model", "digits/linf/pgd", "--min-robust", "abc"]) == 2
    assert capsys.readouterr().err.startswith("robench: error: invalid value for '--min-robust'")
