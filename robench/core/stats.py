"""Confidence intervals for an accuracy measured on n points (a binomial proportion), in pure Python.

The gate uses the Clopper–Pearson ("exact") interval by default: its coverage is never below the nominal
level for any n and any true accuracy, so with ``--confidence upper`` the chance of failing a model whose
true accuracy meets the threshold is at most (1 - level) / 2, a guarantee rather than an average.
Wilson's score interval (narrower, coverage close to nominal on average but dipping below it for some
accuracies) is available as ``wilson``. Both are the intervals recommended by Brown, Cai & DasGupta
(2001) and Newcombe (1998); neither collapses to a zero-width interval at 0 % or 100 % the way the
normal-approximation (Wald) interval does.

The diagnostics decide every comparison of accuracies with an exact test on the points they have
(``binomial_sf``: one-sided binomial; ``mcnemar_p``: exact McNemar on paired per-point outcomes) at
``SIGNIFICANCE``: a flag is an error only when chance alone would produce its evidence less often than
that; otherwise it is a warning that there are too few points to decide.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

from robench.errors import RobenchError

METHODS = ("clopper-pearson", "wilson")
#: one-sided level of the diagnostics' tests (robench.diagnostics.check.Check.decide)
SIGNIFICANCE = 0.05


@dataclass(frozen=True)
class Interval:
    successes: int
    n: int
    low: float
    high: float
    level: float
    method: str

    @property
    def estimate(self) -> float:
        return self.successes / self.n

    def __str__(self) -> str:
        return f"[{self.low:.3f}, {self.high:.3f}]"


def proportion_interval(
    successes: int, n: int, level: float = 0.95, method: str = "clopper-pearson"
) -> Interval:
    """Two-sided interval with the given confidence level for ``successes`` out of ``n``."""
    if n <= 0:
        raise RobenchError(f"an accuracy interval needs at least one point, got n={n}")
    if not 0 <= successes <= n:
        raise RobenchError(f"{successes} correct out of {n} points is impossible")
    if not 0 < level < 1:
        raise RobenchError(f"--confidence-level must lie strictly between 0 and 1, got {level}")
    if method == "wilson":
        low, high = _wilson(successes, n, level)
    elif method == "clopper-pearson":
        low, high = _clopper_pearson(successes, n, level)
    else:
        raise RobenchError(f"unknown interval method '{method}' (choose {' or '.join(METHODS)})")
    return Interval(successes, n, low, high, level, method)


def _wilson(k: int, n: int, level: float) -> tuple[float, float]:
    z = NormalDist().inv_cdf(0.5 + level / 2)
    p = k / n
    center = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    # at k = 0 or k = n the bound is exactly 0 or 1; clamp rounding noise elsewhere
    low = 0.0 if k == 0 else max(0.0, center - half)
    high = 1.0 if k == n else min(1.0, center + half)
    return low, high


def _clopper_pearson(k: int, n: int, level: float) -> tuple[float, float]:
    alpha = 1 - level
    # low: P(X >= k | p) = alpha/2; high: P(X <= k | p) = alpha/2 (both monotone in p)
    low = 0.0 if k == 0 else _solve(lambda p: 1 - binomial_cdf(k - 1, n, p) - alpha / 2)
    high = 1.0 if k == n else _solve(lambda p: alpha / 2 - binomial_cdf(k, n, p))
    return low, high


def _solve(increasing, lo: float = 0.0, hi: float = 1.0) -> float:
    """Root of an increasing function on [0, 1] by bisection (to ~1e-12, plenty for 4 decimals)."""
    for _ in range(60):
        mid = (lo + hi) / 2
        if increasing(mid) < 0:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def binomial_cdf(k: int, n: int, p: float) -> float:
    """P(X <= k) for X ~ Binomial(n, p), summing the shorter tail in log space (fine for n up to ~10^6)."""
    if k < 0 or p >= 1:
        return 0.0 if k < n else 1.0
    if k >= n or p <= 0:
        return 1.0
    if k > n // 2:  # P(X <= k) = P(Y >= n - k) for Y = n - X ~ Binomial(n, 1 - p)
        return 1.0 - binomial_cdf(n - k - 1, n, 1.0 - p)
    log_p, log_q = math.log(p), math.log1p(-p)
    log_choose = 0.0  # log C(n, 0)
    terms = []
    for i in range(k + 1):
        if i:
            log_choose += math.log((n - i + 1) / i)
        terms.append(log_choose + i * log_p + (n - i) * log_q)
    top = max(terms)
    return min(1.0, math.exp(top) * math.fsum(math.exp(t - top) for t in terms))


def binomial_sf(k: int, n: int, p: float) -> float:
    """P(X >= k) for X ~ Binomial(n, p): the one-sided exact binomial test's p-value."""
    return 1.0 if k <= 0 else max(0.0, 1.0 - binomial_cdf(k - 1, n, p))


def mcnemar_p(gained: int, lost: int) -> float:
    """Exact one-sided McNemar test on paired per-point outcomes: of the points on which two measurements
    disagree, ``gained`` went the tested way and ``lost`` the other; the chance of at least ``gained`` of
    them going that way if both ways were equally likely (1.0 when none disagree)."""
    return binomial_sf(gained, gained + lost, 0.5)
