"""The record's certificates: typed, round-tripped, slimmed to counts in entries, absent from old records;
the smoothed classifier's certificates live in their own type, never among the base model's."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "leaderboard"))
from synthetic_records import build_result  # noqa: E402

from robench.core.identity import PointsKey  # noqa: E402
from robench.core.record import (  # noqa: E402
    CertificateSummary,
    CertificationRecord,
    EvaluationResult,
    SmoothedSummary,
    best_certificate,
)


def _with_certificates() -> EvaluationResult:
    result = build_result("pgd", 0.9, [0.6, 0.55, 0.5, 0.5, 0.45, 0.45])  # robust: indices 0, 5, ..., 40
    result.certificates = [
        CertificateSummary("ibp", "ibp", "linf", 0.3, 20, 3, [0, 5, 10], bounded=18, seconds=0.1, work=2.0),
        CertificateSummary(
            "crown-ibp",
            "crown",
            "linf",
            0.3,
            20,
            5,
            [0, 5, 10, 15, 20],
            bounded=15,
            note="full CROWN would bound ...",
        ),  # fmt: skip
    ]
    return result


def test_certificates_round_trip_through_json():
    result = _with_certificates()
    again = EvaluationResult.from_dict(json.loads(json.dumps(result.to_dict())))
    assert again.certificates == result.certificates
    data = result.to_dict()["certificates"]
    assert [c["certified_acc"] for c in data] == [0.15, 0.25]  # derived, written for readers
    assert again.certificates[1].requested_method == "crown" and again.certificates[1].label == "CROWN-IBP"


def test_the_indices_decide_the_count():
    data = _with_certificates().to_dict()
    data["certificates"][0]["certified_count"] = 7  # edited by hand: the indices are what was measured
    assert EvaluationResult.from_dict(data).certificates[0].certified_count == 3


def test_a_slim_record_keeps_counts_not_indices():
    slim = _with_certificates().slim()
    assert [(c.certified, c.certified_count, c.certified_acc) for c in slim.certificates] == [
        (None, 3, 0.15),
        (None, 5, 0.25),
    ]
    assert EvaluationResult.from_dict(slim.to_dict()).certificates == slim.certificates


def test_records_without_certificates_still_read():
    result = build_result("standard", 1.0, [0.1, 0, 0, 0, 0, 0])
    data = result.to_dict()
    del data["certificates"], data["certificates_note"]  # a schema-2 record written before the field
    assert EvaluationResult.from_dict(data).certificates == []
    v1 = dict(data, schema_version=1)  # schema 1: stage costs inline, no typed fields
    v1["stages"] = [
        {k: v for k, v in s.items() if k != "cost"} | {"forward": 200, "backward": 180, "seconds": 0.5}
        for s in data["stages"]
    ]
    old = EvaluationResult.from_dict(v1)
    assert old.certificates == [] and old.certificates_note == "" and old.stages[0].cost.forward == 200


def test_best_certificate_is_the_highest_at_the_eps_asked():
    certificates = _with_certificates().certificates
    assert best_certificate(certificates, 0.3).method == "crown-ibp"
    assert best_certificate(certificates, 0.1) is None and best_certificate([], 0.3) is None


def _smoothed() -> SmoothedSummary:
    return SmoothedSummary(
        sigma=0.25,
        n0=100,
        samples=1000,
        alpha=0.001,
        indices=[3, 7, 9, 11],
        labels=[1, 2, 3, 4],
        smoothed_prediction=[1, 2, -1, 0],
        smoothed_radius_l2=[0.6, 0.2, 0.0, 0.9],
    )


def test_smoothed_certified_accuracy_counts_correct_points_with_the_radius():
    smoothed = _smoothed()
    # correct: points 3 (r 0.6) and 7 (r 0.2); 9 abstains; 11 is wrong whatever its radius
    assert [smoothed.smoothed_certified_acc(r) for r in (0.0, 0.2, 0.5, 0.7)] == [0.5, 0.5, 0.25, 0.0]
    assert smoothed.abstained == 1 and smoothed.classifier == "smoothed"


def test_a_certification_record_keeps_the_smoothed_classifier_apart(tmp_path):
    key = PointsKey(
        checkpoint_sha256="ab" * 32,
        dataset="digits",
        split="test",
        threat="linf",
        eps=0.3,
        seed=0,
        subset_sha256="cd" * 32,
    )
    record = CertificationRecord(
        model="digits/linf/pgd",
        key=key,
        n=20,
        clean_correct=18,
        certificates=_with_certificates().certificates,
        smoothed=[_smoothed()],
    )
    record.to_json(tmp_path / "c.json")
    data = json.loads((tmp_path / "c.json").read_text())
    assert data["kind"] == "certification" and data["clean_acc"] == pytest.approx(0.9)
    assert [s["classifier"] for s in data["smoothed"]] == ["smoothed"]
    assert all("sigma" not in c for c in data["certificates"])  # no smoothing field among the base's
    assert CertificationRecord.from_json(tmp_path / "c.json") == record
    assert (data["eps"], data["dataset"], record.eps) == (0.3, "digits", 0.3)  # the key's, flat
