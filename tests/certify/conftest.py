"""Fixtures for the certification tests (tiny networks live in certify_toys.py).

- ``exact_case`` (session, one per toy network): the toy, 6 points labelled by it, its linf threat and
  the exact minimum margins from the MILP (computed once; about 6 s for all three toys).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import torch
from certify_toys import EXACT_EPS, TOYS, toy_points

from robench.certify import ExactMargins, exact_min_margin
from robench.threat import ThreatModel


@dataclass
class ExactCase:
    name: str
    model: torch.nn.Module
    x: torch.Tensor
    y: torch.Tensor
    threat: ThreatModel
    exact: ExactMargins


@pytest.fixture(scope="session", params=sorted(TOYS))
def exact_case(request) -> ExactCase:
    model = TOYS[request.param]()
    x, y = toy_points(model, n=6)
    threat = ThreatModel("linf", EXACT_EPS[request.param])
    return ExactCase(request.param, model, x, y, threat, exact_min_margin(model, x, y, threat))
