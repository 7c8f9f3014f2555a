"""Randomized smoothing (Cohen, Rosenfeld & Kolter 2019): l2 certificates of the *smoothed* classifier.

The smoothed classifier is g(x) = argmax_c P(f(x + d) = c), d ~ N(0, sigma^2 I) added to the [0, 1]
input (not clipped), f the base model. CERTIFY: n0 noisy forwards pick the class c_A; n more count
n_A votes for it; p_A's one-sided (1 - alpha) Clopper-Pearson lower bound gives the radius
sigma * Phi^-1(p_A) when p_A > 1/2, else g abstains. With probability at least 1 - alpha per point, g
predicts c_A on the whole l2 ball of that radius. Everything here describes g, never f: the fields
carry a ``smoothed_`` prefix so they cannot be mistaken for the base model's certificates.

Noise is drawn per point from generators seeded by ``robench.core.seeding`` (the evaluation seed and
the point's canonical index), in fixed chunks of ``NOISE_CHUNK`` samples, so results are reproducible
and do not depend on the batch size or on the other points.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from statistics import NormalDist

import torch
from torch import nn

from robench.core.counting import CountingModel
from robench.core.seeding import STAGE_BASE, call_seed, point_seed, salt
from robench.core.stats import proportion_interval
from robench.errors import RobenchError

NOISE_CHUNK = 100  # noise samples per generator (the unit that keeps results batch-size independent)
_SELECTION, _ESTIMATION = salt("smoothing-selection"), salt("smoothing-estimation")


@dataclass(frozen=True)
class SmoothedCertificates:
    """Certificates of the smoothed classifier g (not of the base model f) at noise level sigma."""

    sigma: float
    n0: int
    n: int
    alpha: float
    smoothed_prediction: torch.Tensor  # int64 (N,): c_A, or -1 where g abstains
    smoothed_radius_l2: torch.Tensor  # float64 (N,): certified l2 radius of g (0 where it abstains)
    smoothed_p_a_lower: torch.Tensor  # float64 (N,): lower confidence bound of P(f(x + d) = c_A)
    smoothed_votes: torch.Tensor  # int64 (N,): n_A, votes for c_A among the n estimation samples
    labels: torch.Tensor  # int64 (N,)
    base_forward_passes: int  # forwards of the base model, in samples (N * (n0 + n))
    seconds: float
    classifier: str = "smoothed"  # these certificates are never the base model's

    @property
    def smoothed_abstained(self) -> torch.Tensor:
        return self.smoothed_prediction < 0

    @property
    def smoothed_correct(self) -> torch.Tensor:
        return self.smoothed_prediction == self.labels

    def smoothed_certified_accuracy(self, radii) -> dict[float, float]:
        """Fraction of points g classifies correctly with a certified radius >= r, for each r."""
        out = {}
        for r in radii:
            hits = self.smoothed_correct & (self.smoothed_radius_l2 >= float(r))
            out[float(r)] = float(hits.double().mean()) if hits.numel() else 0.0
        return out


def smoothed_radius(p_a_lower: float, sigma: float) -> float | None:
    """sigma * Phi^-1(p_A) for p_A > 1/2; None (abstain) otherwise."""
    if p_a_lower <= 0.5:
        return None
    return sigma * NormalDist().inv_cdf(min(p_a_lower, 1.0 - 1e-16))


def p_a_lower_bound(votes: int, n: int, alpha: float) -> float:
    """One-sided (1 - alpha) Clopper-Pearson lower bound (the low end of the two-sided 1 - 2 alpha one)."""
    return proportion_interval(votes, n, level=1.0 - 2.0 * alpha, method="clopper-pearson").low


def smoothed_certify(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    sigma: float,
    *,
    n0: int = 100,
    n: int = 100_000,
    alpha: float = 0.001,
    batch_size: int = 1_000,
    seed: int = 0,
    indices: torch.Tensor | None = None,
) -> SmoothedCertificates:
    """Cohen et al.'s CERTIFY for each point of ``x`` (in [0, 1]); ``indices`` are the canonical indices
    that seed each point's noise (default 0..N-1). The base model sees one point's noisy copies at a
    time, in batches of about ``batch_size`` (whole noise chunks)."""
    _check(x, y, sigma, n0, n, alpha, batch_size)
    indices = torch.arange(len(x)) if indices is None else indices
    counting = CountingModel(model)
    started = time.perf_counter()
    rows = []
    for i in range(len(x)):
        base = point_seed(seed, int(indices[i]), STAGE_BASE["smoothing"])
        selection = _votes(counting, x[i], sigma, n0, call_seed(base, _SELECTION), batch_size)
        top = int(selection.argmax())
        votes = int(_votes(counting, x[i], sigma, n, call_seed(base, _ESTIMATION), batch_size)[top])
        p_low = p_a_lower_bound(votes, n, alpha)
        radius = smoothed_radius(p_low, sigma)
        rows.append((top if radius is not None else -1, radius or 0.0, p_low, votes))
    seconds = time.perf_counter() - started
    prediction, radius, p_low, votes = zip(*rows, strict=True)
    return SmoothedCertificates(
        sigma,
        n0,
        n,
        alpha,
        torch.tensor(prediction),
        torch.tensor(radius, dtype=torch.float64),
        torch.tensor(p_low, dtype=torch.float64),
        torch.tensor(votes),
        y.detach().cpu().long(),
        counting.forward_samples,
        seconds,
    )


def _votes(model: nn.Module, x: torch.Tensor, sigma: float, num: int, seed: int, batch_size: int):
    """Class counts of the base model's predictions on ``num`` noisy copies of one point."""
    counts: torch.Tensor | None = None
    pending: list[torch.Tensor] = []

    def flush():
        nonlocal counts
        batch = torch.cat(pending)
        pending.clear()
        with torch.no_grad():
            predicted = model(batch).argmax(1).cpu()
        found = torch.bincount(predicted, minlength=1)
        if counts is None:
            counts = found
        else:
            size = max(len(counts), len(found))
            counts = torch.nn.functional.pad(counts, (0, size - len(counts)))
            counts += torch.nn.functional.pad(found, (0, size - len(found)))

    for chunk, start in enumerate(range(0, num, NOISE_CHUNK)):
        generator = torch.Generator().manual_seed(call_seed(seed, chunk))
        count = min(NOISE_CHUNK, num - start)
        noise = torch.randn((count, *x.shape), generator=generator, dtype=torch.float32)
        pending.append(x.unsqueeze(0) + sigma * noise.to(x.device, x.dtype))
        if sum(len(p) for p in pending) >= batch_size:
            flush()
    if pending:
        flush()
    return counts


def _check(x, y, sigma, n0, n, alpha, batch_size) -> None:
    if not sigma > 0:
        raise RobenchError(f"smoothing noise sigma must be positive, got {sigma}")
    if n0 < 1 or n < 1 or batch_size < 1:
        raise RobenchError("smoothing needs n0, n and batch size of at least 1")
    if not 0 < alpha < 0.5:
        raise RobenchError(f"smoothing alpha must lie strictly between 0 and 0.5, got {alpha}")
    if x.shape[0] != y.shape[0] or x.shape[0] == 0:
        raise RobenchError(f"smoothing needs N >= 1 inputs and N labels, got {x.shape[0]} and {y.shape[0]}")
    if float(x.min()) < 0 or float(x.max()) > 1:
        raise RobenchError("smoothing needs inputs in [0, 1] (normalisation belongs inside the model)")
