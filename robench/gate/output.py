"""Gate outputs: the human summary (one line per criterion), the JSON summary and JUnit XML.

JUnit layout (the common Jenkins/GitHub subset, see tests/gate/junit.xsd):
  <testsuites> <testsuite name tests failures errors skipped time timestamp>
    <properties><property name value/>...</properties>
    <testcase classname="robench.gate.<model>" name="<criterion>" time="...">
      <failure message="<summary line>" type="GateThresholdNotMet">details</failure>   (failed only)
    </testcase> ...
    <system-out>the human summary</system-out>
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from robench.diagnostics.verdict import model_findings
from robench.errors import RobenchError
from robench.gate.criteria import GateReport
from robench.leaderboard.suites import SuiteShown


def _header(report: GateReport) -> str:
    r = report.result
    source = "reused stored result" if report.reused else "evaluated now"
    return (
        f"robench gate: {r.model} on {r.dataset}/{r.split} {r.threat} eps={r.eps:g} n={r.n} seed={r.seed} "
        f"suite={SuiteShown.of(r).label} ({source}; verdict {r.verdict})"
    )


def format_summary(report: GateReport) -> str:
    t = report.thresholds
    lines = [_header(report)]
    lines += [c.summary_line() for c in report.criteria]
    flags = report.result.flags
    errors = sorted({f.code for f in flags if f.severity == "error" and f.finding != "model"})
    if errors and not t.require_reliable:
        lines.append(
            f"NOTE  diagnostics call this evaluation unreliable ({', '.join(errors)}); "
            "the accuracies may be too high. --require-reliable gates on it."
        )
    findings = model_findings(flags)
    if findings:
        lines.append(
            f"NOTE  model finding ({', '.join(findings)}): the model itself is broken; the measured "
            "accuracies stand."
        )
    outcome = "PASSED" if report.passed else f"FAILED ({len(report.failures())} of {len(report.criteria)})"
    lines.append(
        f"gate {outcome}; intervals: {t.method} at {t.level:.0%}, thresholds compared with the "
        + ("point estimate" if t.confidence == "point" else f"interval's {t.confidence} bound")
    )
    return "\n".join(lines)


def summary_dict(report: GateReport) -> dict[str, Any]:
    r = report.result
    evaluated = {"model": r.model, "suite": r.suite}
    r.key.to_record(evaluated)  # what was evaluated: the key's fields, as the record keeps them
    return {
        "passed": report.passed,
        "exit_code": report.exit_code,
        **evaluated,
        "n": r.n,
        "clean_acc": r.clean_acc,
        "robust_acc": r.robust_acc,
        "verdict": r.verdict,
        "flags": [
            {"code": f.code, "severity": f.severity, "finding": f.finding, "message": f.message}
            for f in r.flags
        ],
        "model_findings": model_findings(r.flags),
        "reused": report.reused,
        "baseline": report.baseline,
        "thresholds": report.thresholds.to_dict(),
        "criteria": [c.to_dict() for c in report.criteria],
    }


def format_json(report: GateReport) -> str:
    return json.dumps(summary_dict(report), indent=2)


def junit_tree(report: GateReport, seconds: float = 0.0) -> ET.ElementTree:
    r = report.result
    failures = report.failures()
    root = ET.Element("testsuites", name="robench gate")
    suite = ET.SubElement(
        root,
        "testsuite",
        name=f"robench gate {r.model}",
        tests=str(len(report.criteria)),
        failures=str(len(failures)),
        errors="0",
        skipped="0",
        time=f"{seconds:.3f}",
        timestamp=datetime.now(UTC).replace(microsecond=0, tzinfo=None).isoformat(),
    )
    properties = ET.SubElement(suite, "properties")
    for name, value in (
        ("model", r.model),
        ("checkpoint_sha256", r.checkpoint_sha256 or ""),
        ("dataset", f"{r.dataset}/{r.split}"),
        ("threat", r.threat),
        ("eps", repr(r.eps)),
        ("n", str(r.n)),
        ("seed", str(r.seed)),
        ("suite", SuiteShown.of(r).label),
        ("verdict", r.verdict),
        ("reused", str(report.reused).lower()),
    ):
        ET.SubElement(properties, "property", name=name, value=value)
    classname = "robench.gate." + r.model.replace("/", ".")
    share = seconds / max(1, len(report.criteria))
    for criterion in report.criteria:
        case = ET.SubElement(suite, "testcase", classname=classname, name=criterion.name, time=f"{share:.3f}")
        if not criterion.passed:
            failure = ET.SubElement(
                case, "failure", message=criterion.summary_line(), type="GateThresholdNotMet"
            )
            failure.text = json.dumps(criterion.to_dict(), indent=2)
    ET.SubElement(suite, "system-out").text = format_summary(report)
    ET.indent(root)
    return ET.ElementTree(root)


def write_junit(report: GateReport, path: str | Path, seconds: float = 0.0) -> None:
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        junit_tree(report, seconds).write(path, encoding="utf-8", xml_declaration=True)
    except OSError as exc:
        raise RobenchError(f"cannot write the JUnit report {path}: {exc.strerror or exc}") from None
