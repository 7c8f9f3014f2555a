"""Certification in the pipeline: a certified lower bound beside every attack's upper bound.

- ``certify_points(model, points, threat, methods)``: the base model's certificates on an evaluated
  subset, one ``CertificateSummary`` per bound. IBP runs first; every other bound then runs only on the
  points still open, those classified correctly and not certified by IBP (robench.certify returns per
  point the larger of a bound's own margin and IBP's, so this is exactly the answer of running each
  bound on every point, for less work; ``bounded`` counts the points a bound ran on).
- ``certify_record(target, run, result, methods)``: certify an evaluation's points, record the
  certificates, raise ``certified_but_broken`` for any point that is certified and yet broken, and
  recompute the verdict (``robench evaluate --certify``; ``robench submit`` with ``required=False``).
- ``run_certification(request)`` / ``certify(model, ...)``: ``robench certify`` and its Python API,
  optionally with randomized smoothing (the *smoothed* classifier's l2 certificates, recorded apart).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from robench.core.record import CertificateSummary, CertificationRecord, EvaluationResult, SmoothedSummary
from robench.engine.settings import RunSettings
from robench.errors import RobenchError
from robench.options import option
from robench.pipeline.request import EvaluationRequest, certify_methods, request_from_options
from robench.threat import ThreatModel

if TYPE_CHECKING:  # the command line builds CertifyRequest's options without importing torch
    import torch
    from torch import nn

    from robench.data.base import ImageDataset
    from robench.pipeline.target import Target

DEFAULT_METHODS = ("ibp", "crown")  # robench certify
SUBMIT_METHODS = ("ibp", "crown-ibp")  # robench submit: cheap enough for every entry (seconds on digits)
CHUNK = 32  # points per bound call (the progress bar's step); results do not depend on it
SMOOTHING_RADII = (0.0, 0.25, 0.5, 0.75, 1.0)  # l2 radii at which ``robench certify`` prints g's accuracy


def _predictions(model: nn.Module, x: torch.Tensor, batch: int) -> torch.Tensor:
    import torch

    with torch.no_grad():
        return torch.cat([model(x[i : i + batch]).argmax(1) for i in range(0, len(x), batch)])


def certifiable(model: nn.Module, points: ImageDataset, device: str = "cpu") -> str:
    """'' when robench.certify can bound the model, else the one-sentence reason it cannot."""
    from robench.certify import trace_network
    from robench.certify.graph import unwrap

    try:
        trace_network(unwrap(model), points.images[:1].to(device))
    except RobenchError as exc:
        return str(exc)
    return ""


def require_certifiable(target: Target, run: RunSettings) -> None:
    """A RobenchError naming the layer (or operation) that robench.certify cannot bound, if any."""
    from robench.engine.evaluation import resolve_device

    problem = certifiable(target.loaded.module, target.points(run), resolve_device(run.device))
    if problem:
        raise RobenchError(problem)


def _bound(model, x, y, threat, method: str, chunk: int) -> tuple[torch.Tensor, Any]:
    """Certified mask of (x, y) by ``method``, in chunks with a progress bar; the first call's details."""
    import torch

    from robench.certify import certify as certify_bounds
    from robench.progress import progress_bar

    certified, first, seconds, work = [], None, 0.0, 0.0
    with progress_bar(f"certify {method}", total=len(x)) as bar:
        for start in range(0, len(x), chunk):
            certs = certify_bounds(
                model,
                x[start : start + chunk],
                y[start : start + chunk],
                threat,
                method=method,
                batch_size=chunk,
            )
            first = first or certs
            certified.append(certs.certified.cpu())
            seconds, work = seconds + certs.cost.seconds, work + certs.cost.forward_equivalents
            bar.advance(len(certs))
    return torch.cat(certified), (first, seconds, work)


def certify_points(
    model: nn.Module,
    points: ImageDataset,
    threat: ThreatModel,
    methods: tuple[str, ...] = DEFAULT_METHODS,
    *,
    device: str = "cpu",
    batch_size: int | None = None,
) -> list[CertificateSummary]:
    """The base model's certificates on ``points``, one per bound of ``methods`` (in that order)."""
    import torch

    chunk = batch_size or CHUNK
    x, y = points.images.to(device), points.labels.to(device)
    indices = points.indices.tolist()
    clean = (_predictions(model, x, chunk) == y).cpu()
    order = sorted(methods, key=lambda m: m != "ibp")  # IBP first: it decides the others' open points
    by_ibp: torch.Tensor | None = None
    found = {}
    for method in order:
        open_points = clean & ~by_ibp if by_ibp is not None else clean
        certified = by_ibp.clone() if by_ibp is not None else torch.zeros_like(clean)
        used, seconds, work, note = method, 0.0, 0.0, ""
        if bool(open_points.any()):
            where = open_points.nonzero().flatten()
            mask, (first, seconds, work) = _bound(
                model, x[where.to(device)], y[where.to(device)], threat, method, chunk
            )
            certified[where[mask]] = True
            used, note = first.method, first.note
        if method == "ibp":
            by_ibp = certified
        found[method] = CertificateSummary(
            method=used,
            requested_method=method,
            norm=threat.norm,
            eps=float(threat.eps),
            n=len(indices),
            certified_count=int(certified.sum()),
            certified=[indices[i] for i in _where(certified)],
            bounded=int(open_points.sum()),
            seconds=round(seconds, 3),
            work=round(work, 1),
            note=note,
        )
    return [found[m] for m in methods]


def _where(mask: torch.Tensor) -> list[int]:
    return mask.nonzero().flatten().tolist()


def certify_record(
    target: Target,
    run: RunSettings,
    result: EvaluationResult,
    methods: tuple[str, ...],
    *,
    required: bool = True,
) -> EvaluationResult:
    """Certify the evaluation's points, record the certificates, flag any point both certified and broken
    (``certified_but_broken``, an error: the verdict becomes unreliable). ``required=False``: a model
    certify cannot bound gets no certificates and a note instead of an error."""
    from robench.diagnostics.checks.certified_but_broken import contradictions
    from robench.engine.evaluation import resolve_device

    points, device = target.points(run), resolve_device(run.device)
    problem = certifiable(target.loaded.module, points, device)
    if problem and required:
        raise RobenchError(problem)
    if result.probe.randomized:
        problem = "not certified: the randomness probe found the model's outputs random (bounds need a "
        problem += "deterministic network)"
    if problem:
        result.certificates, result.certificates_note = [], problem
        return result
    result.certificates = certify_points(
        target.loaded.module, points, target.threat, methods, device=device, batch_size=result.batch_size
    )  # the evaluation's batch size, as resolved once (robench.engine.evaluation.batch_plan)
    result.flags = [*result.flags, *contradictions(result)]
    return result


def smooth_points(
    model: nn.Module,
    points: ImageDataset,
    sigma: float,
    *,
    samples: int,
    n0: int,
    alpha: float,
    seed: int,
    device: str = "cpu",
) -> SmoothedSummary:
    """Randomized smoothing's CERTIFY on ``points``: the smoothed classifier's prediction and l2 radius per
    point (noise seeded by the seed and each point's canonical index, so chunks do not matter)."""
    import torch

    from robench.certify import smoothed_certify
    from robench.progress import progress_bar

    parts, seconds, forward = [], 0.0, 0
    with progress_bar(f"smoothing sigma {sigma:g}", total=len(points)) as bar:
        for start in range(0, len(points), CHUNK):
            part = slice(start, start + CHUNK)
            certs = smoothed_certify(
                model,
                points.images[part].to(device),
                points.labels[part],
                sigma,
                n0=n0,
                n=samples,
                alpha=alpha,
                seed=seed,
                indices=points.indices[part],
                batch_size=1_000,
            )
            parts.append(certs)
            seconds, forward = seconds + certs.seconds, forward + certs.base_forward_passes
            bar.advance(len(certs.labels))
    return SmoothedSummary(
        sigma=float(sigma),
        n0=n0,
        samples=samples,
        alpha=alpha,
        indices=points.indices.tolist(),
        labels=points.labels.tolist(),
        smoothed_prediction=torch.cat([c.smoothed_prediction for c in parts]).tolist(),
        smoothed_radius_l2=torch.cat([c.smoothed_radius_l2 for c in parts]).tolist(),
        base_forward=forward,
        seconds=round(seconds, 3),
    )


@dataclass(frozen=True)
class CertifyRequest:
    """What ``robench certify`` runs: an evaluation request's model, data, threat and subset, the bounds,
    and optionally randomized smoothing."""

    evaluation: EvaluationRequest = field(default_factory=EvaluationRequest)
    methods: tuple[str, ...] | str = field(
        default=",".join(DEFAULT_METHODS),
        metadata=option(
            "bounds of the base model: ibp, crown-ibp, crown (comma-separated; crown runs CROWN-IBP on big "
            "networks and says so)",
            option="--method",
            parse=certify_methods,
        ),
    )
    smoothing: float | None = field(
        default=None,
        metadata=option("also certify the *smoothed* classifier with Gaussian noise SIGMA (l2 radii)"),
    )
    samples: int = field(
        default=1_000,
        metadata=option("--smoothing: noise samples per point (Cohen et al. use 100,000; radii grow with n)"),
    )
    n0: int = field(default=100, metadata=option("--smoothing: noise samples that select the class"))
    alpha: float = field(default=0.001, metadata=option("--smoothing: failure probability per point"))

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "methods", certify_methods(self.methods))
        except ValueError as exc:
            raise RobenchError(f"--method {exc}, got {self.methods!r}") from None


def run_certification(request: CertifyRequest) -> CertificationRecord:
    """Certify the points ``request.evaluation`` names (its subset: ``n``, ``seed``); a caller's nn.Module
    is put back as it was (``kept_as_it_was``)."""
    from robench.models.wrapper import kept_as_it_was

    with kept_as_it_was(request.evaluation.model.module):
        return _certification(request)


def _certification(request: CertifyRequest) -> CertificationRecord:
    from robench.core.environment import environment
    from robench.core.threads import use_threads
    from robench.engine.evaluation import batch_plan, check_outputs, resolve_device
    from robench.engine.identity import points_key_of
    from robench.pipeline.target import resolve_target

    if request.evaluation.run.threads is not None:
        use_threads(request.evaluation.run.threads)
    target = resolve_target(request.evaluation)
    run = request.evaluation.run
    points, model, device = target.points(run), target.loaded.module, resolve_device(run.device)
    check_outputs(model, points, device)
    require_certifiable(target, run)
    batch = batch_plan(run.batch_size, model, points, device).batch  # as an evaluation resolves it
    certificates = certify_points(
        model, points, target.threat, request.methods, device=device, batch_size=batch
    )
    smoothed = []
    if request.smoothing is not None:
        smoothed.append(
            smooth_points(
                model,
                points,
                request.smoothing,
                samples=request.samples,
                n0=request.n0,
                alpha=request.alpha,
                seed=run.seed,
                device=device,
            )
        )
    clean = int((_predictions(model, points.images.to(device), batch).cpu() == points.labels).sum())
    return CertificationRecord(
        model=target.loaded.name,
        key=points_key_of(points, target.threat, run.seed, target.loaded.sha256),
        n=len(points),
        clean_correct=clean,
        certificates=certificates,
        smoothed=smoothed,
        card=target.card_summary,
        env=environment(device),
        created=datetime.now(UTC).isoformat(timespec="seconds"),
    )


def certify(
    model: Any = None,
    dataset: Any = None,
    threat: Any = None,
    *,
    methods: Any = DEFAULT_METHODS,
    smoothing: float | None = None,
    samples: int = 1_000,
    n0: int = 100,
    alpha: float = 0.001,
    **options: Any,
) -> CertificationRecord:
    """``robench certify`` from Python: ``model`` is a card id or name or an ``nn.Module``; ``dataset``,
    ``threat`` and ``options`` (``n``, ``seed``, ``eps``, ...) are those of ``robench.evaluate``."""
    request = CertifyRequest(
        request_from_options(model, dataset=dataset, threat=threat, **options),
        methods=methods,
        smoothing=smoothing,
        samples=samples,
        n0=n0,
        alpha=alpha,
    )
    return run_certification(request)
