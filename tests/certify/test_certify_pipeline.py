"""Certification in the pipeline: the method cascade gives each bound's own answer, evaluate records the
bracket, a point certified and broken is flagged (shown with a deliberately unsound certifier), and a
model certify cannot bound is one error for ``--certify`` and a note for submit."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from robench.certify import certify
from robench.certify.api import Certificates
from robench.errors import RobenchError
from robench.pipeline.certify import certify_points, certify_record
from robench.pipeline.evaluate import evaluate, evaluate_target
from robench.pipeline.request import request_from_options
from robench.pipeline.target import resolve_target
from robench.threat import ThreatModel

SUITE = ["fgsm", "pgd-7"]
SMALL = ThreatModel("linf", 0.01)  # the tiny model: IBP certifies a few points, CROWN-IBP most


@pytest.fixture(scope="module")
def points(digits_test):
    return digits_test.subset(40, seed=0).materialize()


def test_each_bound_certifies_exactly_what_it_certifies_alone(tiny_digits_model, points):
    """IBP first, then CROWN-IBP only on the points still open: the same sets as each bound on every point."""
    ibp, crown_ibp = certify_points(tiny_digits_model, points, SMALL, ("ibp", "crown-ibp"))
    alone = {
        m: certify(tiny_digits_model, points.images, points.labels, SMALL, method=m)
        for m in ("ibp", "crown-ibp")
    }
    for summary in (ibp, crown_ibp):
        mask = alone[summary.method].certified
        assert summary.certified == points.indices[mask].tolist()
        assert summary.certified_count == int(mask.sum()) and summary.n == 40
    clean = int(alone["ibp"].clean_correct.sum())
    assert 0 < ibp.certified_count < crown_ibp.certified_count < clean  # a non-trivial bracket
    assert ibp.bounded == clean and crown_ibp.bounded == clean - ibp.certified_count
    assert crown_ibp.work < alone["crown-ibp"].cost.forward_equivalents  # the cascade saved work
    assert set(ibp.certified) <= set(crown_ibp.certified)


def test_the_order_asked_for_is_the_order_recorded(tiny_digits_model, points):
    first, second = certify_points(tiny_digits_model, points, SMALL, ("crown-ibp", "ibp"))
    assert (first.requested_method, second.requested_method) == ("crown-ibp", "ibp")
    assert first.certified_count > second.certified_count


@pytest.mark.slow
def test_evaluate_with_certify_records_a_sound_bracket(tiny_digits_model, digits_test):
    result = evaluate(
        tiny_digits_model, digits_test, "linf", eps=0.01, suite=SUITE, n=40, certify="ibp,crown-ibp"
    )
    ibp, crown_ibp = result.certificates
    assert (ibp.method, crown_ibp.method, ibp.eps, ibp.norm) == ("ibp", "crown-ibp", 0.01, "linf")
    robust = {s.index for s in result.samples if s.robust}
    assert set(crown_ibp.certified) <= robust  # the real certifier on a real model: never broken
    assert crown_ibp.certified_acc <= result.robust_acc and crown_ibp.certified_count > 0
    assert "certified_but_broken" not in {f.code for f in result.flags}
    assert result.verdict == "reliable"


def _certify_everything(model, x, y, threat, *, method="crown", batch_size=32, **kwargs):
    """A deliberately unsound certifier: every point correct at x is 'certified'."""
    with torch.no_grad():
        clean = model(x).argmax(1) == y
    margin = torch.ones(len(x), dtype=torch.float64)
    cost = certify(model, x[:1], y[:1], threat, method="ibp").cost
    return Certificates(method, method, threat, clean, margin, clean, cost)


@pytest.mark.slow
@pytest.mark.parametrize("diagnostics", [True, False])
def test_an_unsound_certifier_is_caught(tiny_digits_model, digits_test, monkeypatch, diagnostics):
    monkeypatch.setattr("robench.certify.api.certify", _certify_everything)  # read on each call
    result = evaluate(
        tiny_digits_model, digits_test, "linf", eps=0.1, suite=SUITE, n=40, certify="ibp",
        diagnostics=diagnostics,
    )  # fmt: skip
    broken = sorted(s.index for s in result.samples if s.clean_correct and not s.robust)
    assert broken  # at eps 0.1 PGD breaks points of the tiny (undefended) model
    (flag,) = [f for f in result.flags if f.code == "certified_but_broken"]
    assert flag.severity == "error" and result.verdict == "unreliable"
    assert flag.evidence["points"] == len(broken)
    assert flag.evidence["by_method"]["ibp"]["examples"] == broken[:10]
    by = {s.index: s.broken_by for s in result.samples}
    assert flag.evidence["broken_by"] == {str(i): by[i] for i in broken[:10]}
    assert f"index {broken[0]} by" in flag.message


class _Tanh(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(64, 16), nn.Tanh(), nn.Linear(16, 10))

    def forward(self, x):
        return self.net(x)


def test_a_layer_certify_cannot_bound_fails_before_the_suite(digits_test, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the suite ran although certification was bound to fail")

    monkeypatch.setattr("robench.engine.evaluation.Evaluation.run", refuse)
    with pytest.raises(RobenchError, match=r"^cannot certify: .*Tanh"):
        evaluate(_Tanh().eval(), digits_test, "linf", eps=0.1, suite=SUITE, n=10, certify="crown")


def test_a_model_certify_cannot_bound_gets_a_note_when_certifying_is_optional(digits_test):
    request = request_from_options(
        _Tanh().eval(), dataset=digits_test, threat="linf", eps=0.1, suite=SUITE, n=10
    )
    target = resolve_target(request)
    result = evaluate_target(target, request.run, diagnostics=False)
    certify_record(target, request.run, result, ("ibp", "crown-ibp"), required=False)
    assert result.certificates == [] and result.certificates_note.startswith("cannot certify:")
    assert "Tanh" in result.certificates_note and result.verdict == "unchecked"


def test_unknown_methods_are_one_error(tiny_digits_model, digits_test):
    with pytest.raises(RobenchError, match="--certify must name certify methods among ibp, crown-ibp, crown"):
        evaluate(tiny_digits_model, digits_test, "linf", eps=0.1, n=5, certify="ibp,cronw")
