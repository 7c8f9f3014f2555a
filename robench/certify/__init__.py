"""Certified robustness: sound lower bounds beside the attacks' upper bounds.

- ``certify(model, x, y, threat, method="ibp"|"crown-ibp"|"crown") -> Certificates``: per-point
  certificates of the base model (IBP, Gowal et al. 2018; CROWN, Zhang et al. 2018) for linf and l2
  balls intersected with [0, 1].
- ``exact_min_margin(model, x, y, threat)``: the exact minimum margin of a tiny ReLU network by
  mixed-integer programming (scipy HiGHS), the ground truth the bounds are tested against.
- ``smoothed_certify(model, x, y, sigma, ...) -> SmoothedCertificates``: randomized smoothing (Cohen et
  al. 2019): l2 certificates of the *smoothed* classifier, never of the base model.
"""

from robench.registry import lazy_attributes

__getattr__ = lazy_attributes(  # imported on first use: ``import robench.certify`` does not import torch
    __name__,
    {
        "Certificates": "robench.certify.api",
        "CertifyCost": "robench.certify.api",
        "certify": "robench.certify.api",
        "METHODS": "robench.certify.bounds",
        "margin_lower_bounds": "robench.certify.bounds",
        "ExactMargins": "robench.certify.exact",
        "exact_min_margin": "robench.certify.exact",
        "BoundGraph": "robench.certify.graph",
        "trace_network": "robench.certify.graph",
        "InputRegion": "robench.certify.region",
        "SmoothedCertificates": "robench.certify.smoothing",
        "smoothed_certify": "robench.certify.smoothing",
    },
)

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
