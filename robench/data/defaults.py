"""Default perturbation budgets per dataset and threat, as data (the usual published settings).

Strings as cards write them (``"8/255"``); :func:`default_eps` gives the exact float
(``float(Fraction("8/255"))``, the same as ``robench.threat.parse_eps``).
"""

from __future__ import annotations

from fractions import Fraction

DEFAULT_EPS: dict[str, dict[str, str]] = {
    "digits": {"linf": "0.3"},
    "mnist": {"linf": "0.3"},
    "fashion-mnist": {"linf": "0.1"},
    "cifar10": {"linf": "8/255", "l2": "0.5"},
    "cifar100": {"linf": "8/255"},
    "imagenet": {"linf": "4/255", "l2": "3.0"},
}


def default_eps(dataset: str, threat: str) -> float | None:
    """The usual eps for this dataset name and threat (``linf``/``l2``), or None when there is none."""
    text = DEFAULT_EPS.get(dataset, {}).get(threat.lower())
    return None if text is None else float(Fraction(text))
