"""The certify() API: what a certificate means, what it costs, and the errors users can cause."""

from __future__ import annotations

import pytest
import torch
from certify_toys import TOYS, toy_points

from robench.certify import certify
from robench.errors import RobenchError
from robench.threat import ThreatModel

THREAT = ThreatModel("linf", 0.02)


def test_misclassified_points_are_never_certified():
    model = TOYS["mlp"]()
    x, y = toy_points(model, n=8)
    wrong = (y + 1) % 4  # every label wrong: the bound on z_wrong - z_j is negative at x itself
    certs = certify(model, x, wrong, THREAT, method="crown")
    assert not bool(certs.certified.any()) and not bool(certs.clean_correct.any())
    assert bool((certs.margin_lower_bound < 0).all())
    right = certify(model, x, y, THREAT, method="crown")
    assert bool(right.clean_correct.all()) and right.certified_accuracy > 0


def test_results_do_not_depend_on_the_batch_size():
    model = TOYS["conv"]()
    x, y = toy_points(model, n=7)
    whole = certify(model, x, y, THREAT, method="crown", batch_size=7)
    split = certify(model, x, y, THREAT, method="crown", batch_size=2)
    assert torch.allclose(whole.margin_lower_bound, split.margin_lower_bound, atol=1e-10)


def test_cost_counts_forward_equivalent_passes():
    model = TOYS["mlp"]()
    x, y = toy_points(model, n=5)
    ibp = certify(model, x, y, THREAT, method="ibp")
    # centre and radius through every layer (2) plus the 3 margin rows through the last layer
    macs = 16 * 12 + 12 * 10 + 10 * 4
    assert ibp.cost.forward_equivalents_per_point == pytest.approx(2 + 3 * 10 * 4 / macs)
    crown_ibp = certify(model, x, y, THREAT, method="crown-ibp")
    assert crown_ibp.cost.forward_equivalents_per_point == pytest.approx(2 + 3 * 10 * 4 / macs + 3)
    crown = certify(model, x, y, THREAT, method="crown")
    assert crown.cost.forward_equivalents_per_point > crown_ibp.cost.forward_equivalents_per_point
    assert crown.cost.seconds > 0 and crown.cost.points == 5


def test_full_crown_falls_back_to_crown_ibp_above_the_neuron_limit():
    model = TOYS["mlp"]()
    x, y = toy_points(model, n=3)
    certs = certify(model, x, y, THREAT, method="crown", crown_neuron_limit=5)
    assert (certs.method, certs.requested_method) == ("crown-ibp", "crown")
    assert "10 intermediate neurons" in certs.note and "CROWN-IBP ran" in certs.note
    full = certify(model, x, y, THREAT, method="crown")
    assert full.method == "crown" and full.note == ""


@pytest.mark.parametrize(
    "x,y,method,message",
    [
        (torch.rand(2, 1, 4, 4) * 2, torch.zeros(2, dtype=torch.long), "ibp", "inputs in \\[0, 1\\]"),
        (torch.rand(2, 1, 4, 4), torch.zeros(3, dtype=torch.long), "ibp", "N labels"),
        (torch.rand(2, 1, 4, 4), torch.zeros(2, dtype=torch.long), "deepz", "unknown certification method"),
        (torch.rand(0, 1, 4, 4), torch.zeros(0, dtype=torch.long), "ibp", "at least one point"),
    ],
)
def test_user_errors_are_one_sentence(x, y, method, message):
    with pytest.raises(RobenchError, match=message):
        certify(TOYS["mlp"](), x, y, THREAT, method=method)
