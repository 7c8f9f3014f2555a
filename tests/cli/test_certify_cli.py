"""``robench certify``: the bounds' certified accuracies on evaluate's points, the method that ran, the
cost, randomized smoothing labelled as the smoothed classifier's, and one-line errors (exit 2)."""

from __future__ import annotations

import textwrap

import pytest
import torch
from safetensors.torch import save_file

from robench.certify import certify, smoothed_certify
from robench.cli import main
from robench.core.record import CertificationRecord
from robench.threat import ThreatModel


def _certify(capsys, *args):
    code = main(["certify", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def test_certify_prints_each_bound_and_writes_the_record(tiny_digits_card, tiny_digits_model, digits_test,
                                                         tmp_path, capsys):  # fmt: skip
    out = tmp_path / "certificates.json"
    code, stdout, err = _certify(
        capsys, "--model", tiny_digits_card.path, "--eps", "0.01", "-n", "40", "--method", "ibp,crown-ibp",
        "--out", out,
    )  # fmt: skip
    assert code == 0, err
    record = CertificationRecord.from_json(out)
    points = digits_test.subset(40, seed=0)
    assert (record.n, record.eps, record.subset_sha256) == (40, 0.01, points.subset_sha256())
    threat = ThreatModel("linf", 0.01)
    for cert in record.certificates:  # each the answer of the library on the same points
        alone = certify(tiny_digits_model, points.images, points.labels, threat, method=cert.method)
        assert cert.certified == points.indices[alone.certified].tolist()
        assert f"{100 * cert.certified_acc:.2f}%" in stdout
    ibp, crown_ibp = record.certificates
    assert 0 < ibp.certified_acc < crown_ibp.certified_acc  # IBP 5 %, CROWN-IBP 92.5 % here
    assert "│ ibp " in stdout and "│ crown-ibp " in stdout and record.smoothed == []


@pytest.mark.slow
def test_default_bounds_are_ibp_and_crown_and_crown_is_never_below_ibp(tiny_digits_card, capsys, tmp_path):
    out = tmp_path / "c.json"
    code, stdout, err = _certify(
        capsys, "--model", tiny_digits_card.path, "--eps", "0.02", "-n", "3", "--out", out
    )
    assert code == 0, err
    ibp, crown = CertificationRecord.from_json(out).certificates
    assert (ibp.method, crown.method, crown.requested_method) == ("ibp", "crown", "crown")
    assert set(ibp.certified) <= set(crown.certified) and crown.certified_count > ibp.certified_count
    assert crown.work / crown.bounded > 100  # full CROWN bounds every unstable neuron: far more work
    assert crown.note == "" and "note" not in stdout


def test_smoothing_certifies_the_smoothed_classifier_apart(tiny_digits_card, tiny_digits_model, digits_test,
                                                          capsys, tmp_path):  # fmt: skip
    out = tmp_path / "c.json"
    code, stdout, err = _certify(
        capsys, "--model", tiny_digits_card.path, "-n", "6", "--method", "ibp", "--smoothing", "0.25",
        "--samples", "200", "--n0", "20", "--seed", "3", "--out", out,
    )  # fmt: skip
    assert code == 0, err
    record = CertificationRecord.from_json(out)
    (smoothed,) = record.smoothed
    points = digits_test.subset(6, seed=3)
    direct = smoothed_certify(tiny_digits_model, points.images, points.labels, 0.25, n0=20, n=200, seed=3,
                              indices=points.indices)  # fmt: skip
    assert smoothed.smoothed_prediction == direct.smoothed_prediction.tolist()
    assert smoothed.smoothed_radius_l2 == pytest.approx(direct.smoothed_radius_l2.tolist())
    assert smoothed.indices == points.indices.tolist() and smoothed.classifier == "smoothed"
    assert max(smoothed.smoothed_radius_l2) > 0  # an l2 radius is certified for g
    assert smoothed.base_forward == 6 * (20 + 200)
    assert "smoothed classifier g" in stdout and "not the base model's" in stdout
    assert [c.method for c in record.certificates] == ["ibp"]  # the base model's bracket stays its own


def test_unknown_method_is_one_line(tiny_digits_card, capsys):
    code, stdout, err = _certify(capsys, "--model", tiny_digits_card.path, "--method", "ibp,zono")
    assert code == 2 and err.strip().splitlines() == [
        "robench: error: --method must name certify methods among ibp, crown-ibp, crown (comma-separated), "
        "got 'ibp,zono'"
    ]


def test_a_layer_certify_cannot_bound_is_one_line(tmp_path, monkeypatch, capsys):
    (tmp_path / "tanh_net.py").write_text(
        textwrap.dedent("""
        from torch import nn

        def build(num_classes=10, in_channels=1):
            hidden = nn.Linear(64 * in_channels, 16)
            return nn.Sequential(nn.Flatten(), hidden, nn.Tanh(), nn.Linear(16, num_classes))
        """)
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Flatten(), torch.nn.Linear(64, 16), torch.nn.Tanh(), torch.nn.Linear(16, 10)
    )
    save_file(net.state_dict(), tmp_path / "tanh.safetensors")
    code, stdout, err = _certify(
        capsys, "--checkpoint", tmp_path / "tanh.safetensors", "--arch", "tanh_net:build", "--trust-code",
        "--dataset", "digits", "--threat", "linf", "-n", "4",
    )  # fmt: skip
    lines = [line for line in err.splitlines() if line.startswith("robench: error")]
    assert code == 2 and len(lines) == 1 and "Traceback" not in err
    assert lines[0].startswith("robench: error: cannot certify: ") and "Tanh" in lines[0]
