"""Confidence intervals against published values (Newcombe 1998, Stat. Med. 17:857, Table II) and scipy."""

from __future__ import annotations

import pytest

from robench.core.stats import binomial_cdf, proportion_interval
from robench.errors import RobenchError

# (successes, n, Clopper-Pearson 95 %, Wilson score 95 %), to 4 decimals as published
NEWCOMBE = [
    (81, 263, (0.2527, 0.3676), (0.2553, 0.3662)),
    (15, 148, (0.0578, 0.1617), (0.0624, 0.1605)),
    (0, 20, (0.0000, 0.1684), (0.0000, 0.1611)),
    (1, 29, (0.0009, 0.1776), (0.0061, 0.1718)),
    (29, 29, (0.8806, 1.0000), (0.8830, 1.0000)),
]


@pytest.mark.parametrize(("k", "n", "exact", "wilson"), NEWCOMBE)
def test_intervals_match_published_values(k, n, exact, wilson):
    cp = proportion_interval(k, n, 0.95, "clopper-pearson")
    ws = proportion_interval(k, n, 0.95, "wilson")
    assert (round(cp.low, 4), round(cp.high, 4)) == exact
    assert (round(ws.low, 4), round(ws.high, 4)) == wilson


def test_zero_successes_upper_bound_is_closed_form():
    # for k = 0 the exact upper bound is 1 - (alpha/2)^(1/n)
    for n, level in ((10, 0.95), (100, 0.99), (37, 0.9)):
        expected = 1 - ((1 - level) / 2) ** (1 / n)
        assert proportion_interval(0, n, level).high == pytest.approx(expected, abs=1e-9)


def test_interval_agrees_with_scipy_where_available():
    stats = pytest.importorskip("scipy.stats")
    for k, n in ((3, 7), (40, 100), (271, 300), (9000, 10000)):
        ours = proportion_interval(k, n, 0.9)
        theirs = stats.binomtest(k, n).proportion_ci(0.9, method="exact")
        assert ours.low == pytest.approx(theirs.low, abs=1e-9)
        assert ours.high == pytest.approx(theirs.high, abs=1e-9)
        assert binomial_cdf(k, n, 0.37) == pytest.approx(stats.binom.cdf(k, n, 0.37), abs=1e-12)


def test_wider_at_higher_level_and_shrinks_with_n():
    narrow, wide = proportion_interval(30, 100, 0.8), proportion_interval(30, 100, 0.99)
    assert wide.low < narrow.low < 0.3 < narrow.high < wide.high
    assert proportion_interval(300, 1000).high - proportion_interval(300, 1000).low < wide.high - wide.low


@pytest.mark.parametrize(
    ("k", "n", "level", "method"),
    [(1, 0, 0.95, "wilson"), (5, 4, 0.95, "wilson"), (1, 4, 1.0, "wilson"), (1, 4, 0.95, "wald")],
)
def test_invalid_inputs_are_user_errors(k, n, level, method):
    with pytest.raises(RobenchError):
        proportion_interval(k, n, level, method)
