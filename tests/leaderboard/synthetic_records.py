"""Synthetic results records with known numbers, built from the engine's own record types.

Shared by tests/store, tests/leaderboard, tests/reports and tests/gate (their conftests put this folder
on sys.path).
"""

from __future__ import annotations

import dataclasses

from robench.attacks.suites import Suite
from robench.core.cost import Cost
from robench.core.identity import EvaluationKey
from robench.core.record import DiagnosticsSummary, EvaluationResult, Flag, SampleResult, StageResult
from robench.engine.identity import suite_description

STANDARD = ["fgsm", "pgd-7", "pgd-20", "pgd-100x2", "cw", "autoattack"]
KEY_FIELDS = {f.name for f in dataclasses.fields(EvaluationKey)}
#: the error flag a record given verdict "unreliable" and no error flag of its own gets
UNRELIABLE = Flag("synthetic_error", "error", "a synthetic evaluation error")


def flat_record(*, verdict: str = "reliable", **fields) -> EvaluationResult:
    """A record from its JSON's flat fields (``checkpoint_sha256``, ``eps``, ``suite``, ...: the key's
    fields where records keep them) and ``verdict`` as the flags and diagnostics that give it: "reliable"
    ran the diagnostics, "unreliable" also has an error flag (``UNRELIABLE`` unless ``flags`` has one),
    "unchecked" did not run them."""
    fields.setdefault("diagnostics", None if verdict == "unchecked" else DiagnosticsSummary())
    flags = list(fields.pop("flags", []))
    if verdict == "unreliable" and not any(f.severity == "error" and f.finding != "model" for f in flags):
        flags.append(UNRELIABLE)
    data = {"suite": fields.pop("suite"), "data_info": {"fingerprint": fields.pop("data_fingerprint", "")}}
    data |= {k: fields.pop(k) for k in list(fields) if k in KEY_FIELDS}
    key = EvaluationKey.from_record(data)
    content = {k: v for k, v in data["suite"].items() if k not in ("name", "version", "digest")}
    result = EvaluationResult(key=key, suite_content=content, flags=flags, **fields)
    assert result.verdict == verdict
    return result


def digits_linf_record(**fields) -> EvaluationResult:
    """A record on the digits test split, linf, seed 0, cascade mode; ``fields`` give everything else."""
    return flat_record(dataset="digits", split="test", threat="linf", seed=0, mode="cascade", **fields)


def build_result(
    model: str,
    clean: float,
    ladder: list[float],
    *,
    verdict: str = "reliable",
    flags: tuple[Flag, ...] = (),
    n: int = 20,
    eps: float = 0.3,
    sha: str | None = None,
) -> EvaluationResult:
    """A record whose stage accuracies follow ``ladder`` (fractions; each a multiple of 1/n)."""
    n_clean, n_robust = round(clean * n), round(ladder[-1] * n)
    samples = [
        SampleResult(index=5 * i, label=i % 10, clean_correct=i < n_clean, robust=i < n_robust,
                     broken_by=None if (i < n_robust or i >= n_clean) else STANDARD[-1])
        for i in range(n)
    ]  # fmt: skip
    stages = [
        StageResult(attack=a, robust_acc=acc, attacked=n, broken=0, cost=Cost(10 * n, 9 * n, 0.5))
        for a, acc in zip(STANDARD, ladder, strict=True)
    ]
    return digits_linf_record(
        model=f"digits/linf/{model}",
        checkpoint_sha256=sha or (model.encode().hex() * 64)[:64],
        eps=eps,
        subset_sha256="ab" * 32,
        suite={**suite_description(Suite("standard", "1", tuple(STANDARD))), "attacks": STANDARD},
        stages=stages,
        samples=samples,
        flags=list(flags),
        verdict=verdict,
        created="2026-11-21T09:00:00+00:00",
    )
