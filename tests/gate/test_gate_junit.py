"""JUnit XML and JSON outputs of a gate report, validated against tests/gate/junit.xsd."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from xsd_subset import Schema

from robench.core.record import Flag
from robench.errors import RobenchError
from robench.gate.criteria import GateReport, Thresholds, check_result
from robench.gate.output import format_json, format_summary, write_junit

XSD = Path(__file__).with_name("junit.xsd")


def report_for(result, **thresholds):
    t = Thresholds(**thresholds)
    return GateReport(result=result, thresholds=t, criteria=check_result(result, t))


@pytest.fixture
def failing_report(make_result):
    result = make_result(
        n=100,
        clean=90,
        robust=40,
        flags=(Flag("masking", "error", 'zero <gradients> & "quotes"'),),
        verdict="unreliable",
    )
    return report_for(result, min_clean=0.8, min_robust=0.5, require_reliable=True)


def test_junit_validates_and_has_one_testcase_per_criterion(failing_report, tmp_path):
    path = tmp_path / "out" / "gate.xml"
    write_junit(failing_report, path, seconds=1.5)
    root = ET.parse(path).getroot()
    assert Schema(XSD).errors(root) == []
    suite = root.find("testsuite")
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == ["clean accuracy", "robust accuracy", "reliability"]
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("3", "2", "0")
    assert cases[0].find("failure") is None
    failure = cases[1].find("failure")
    assert "0.400 >= 0.500" in failure.get("message")
    assert json.loads(failure.text)["interval"]["successes"] == 40
    assert "zero <gradients>" in cases[2].find("failure").get("message")  # escaped, still readable


def test_validator_rejects_broken_junit(failing_report, tmp_path):
    root = ET.fromstring(ET.tostring(write_and_parse(failing_report, tmp_path)))
    suite = root.find("testsuite")
    del suite.attrib["tests"]
    suite.set("failures", "two")
    ET.SubElement(suite.find("testcase"), "failure")  # no message/type
    ET.SubElement(root, "testcase", name="x", classname="y")  # testcase outside a testsuite
    problems = Schema(XSD).errors(root)
    assert any("'tests'" in p for p in problems)
    assert any("failures='two'" in p for p in problems)
    assert any("'message'" in p for p in problems)
    assert any("unexpected <testcase>" in p for p in problems)


def write_and_parse(report, tmp_path):
    path = tmp_path / "gate.xml"
    write_junit(report, path)
    return ET.parse(path).getroot()


def test_passing_report_has_no_failures(make_result, tmp_path):
    report = report_for(make_result(n=50, clean=50, robust=25), min_robust=0.5)
    root = write_and_parse(report, tmp_path)
    assert Schema(XSD).errors(root) == []
    assert root.find("testsuite").get("failures") == "0" and root.find(".//failure") is None


def test_unwritable_junit_path_is_a_user_error(failing_report, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(RobenchError, match="JUnit"):
        write_junit(failing_report, blocker / "gate.xml")


def test_human_and_json_summaries(failing_report):
    text = format_summary(failing_report)
    lines = text.splitlines()
    assert lines[1].startswith("PASS  clean accuracy") and lines[2].startswith("FAIL  robust accuracy")
    assert "FAILED (2 of 3)" in lines[-1] and "clopper-pearson at 95%" in lines[-1]
    data = json.loads(format_json(failing_report))
    assert data["passed"] is False and data["exit_code"] == 1
    assert [c["passed"] for c in data["criteria"]] == [True, False, False]
    assert data["criteria"][1]["interval"]["low"] == pytest.approx(0.3033, abs=1e-4)
