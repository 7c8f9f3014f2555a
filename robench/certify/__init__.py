"""Certified robustness: sound lower bounds beside the attacks' upper bounds.

- ``certify(model, x, y, threat, method="ibp"|"crown-ibp"|"crown") -> Certificates``: per-point
  certificates of the base model (IBP, Gowal et al. 2018; CROWN, Zhang et al. 2018) for linf and l2
  balls intersected with [0, 1].
- ``exact_min_margin(model, x, y, threat)``: the exact minimum margin of a tiny ReLU network by
  mixed-integer programming (scipy HiGHS), the ground truth the bounds are tested against.
- ``smoothed_certify(model, x, y, sigma, ...) -> SmoothedCertificates``: randomized smoothing (Cohen et
  al. 2019): l2 certificates of the *smoothed* classifier, never of the base model.
"""

from robench.certify.api import Certificates, CertifyCost, certify
from robench.certify.bounds import METHODS, margin_lower_bounds
from robench.certify.exact import ExactMargins, exact_min_margin
from robench.certify.graph import BoundGraph, trace_network
from robench.certify.region import InputRegion
from robench.certify.smoothing import SmoothedCertificates, smoothed_certify

__all__ = [
    "METHODS",
    "BoundGraph",
    "Certificates",
    "CertifyCost",
    "ExactMargins",
    "InputRegion",
    "SmoothedCertificates",
    "certify",
    "exact_min_margin",
    "margin_lower_bounds",
    "smoothed_certify",
    "trace_network",
]
