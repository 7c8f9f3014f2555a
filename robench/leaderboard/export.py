"""Export a stored evaluation for a RobustBench submission: the ``model_info`` JSON RobustBench keeps per
leaderboard entry (``model_info/<dataset>/<threat>/<Name>.json`` in its repository).

Only a record evaluated on RobustBench's protocol is exported: one of its boards (CIFAR-10 Linf 8/255 and
L2 0.5, CIFAR-100 Linf 8/255, ImageNet Linf 4/255, eps as robench.data.defaults gives them), all of its
test points (10,000 CIFAR images; ImageNet: its 5,000-image subset, none missing) and a suite whose last
stage is complete AutoAttack (``standard``). ``autoattack_acc`` is the record's robust accuracy: the
worst case per point over the whole suite and the diagnostics, never above AutoAttack's alone. Numbers are
written as RobustBench's ``update_json`` writes them (percent, rounded to 2 decimals, as text); the fields
robench cannot know (paper, authors, venue, extra data, reported accuracy) are left empty to fill in.
"""

from __future__ import annotations

from typing import Any

from robench.core.record import EvaluationResult
from robench.data.defaults import DEFAULT_EPS, default_eps
from robench.errors import RobenchError
from robench.leaderboard.formatting import eps_text

#: RobustBench's boards (dataset, robench threat) -> its spelling of the threat model
BOARDS = {
    ("cifar10", "linf"): "Linf",
    ("cifar10", "l2"): "L2",
    ("cifar100", "linf"): "Linf",
    ("imagenet", "linf"): "Linf",
}
TEST_POINTS = {"cifar10": 10_000, "cifar100": 10_000, "imagenet": 5_000}
AUTOATTACK = ("autoattack", "autoattack-rand")
TO_FILL = ("link", "name", "authors", "additional_data", "venue", "reported")


def percent(value: float) -> str:
    """RobustBench's ``str(round(accuracy * 100, 2))``."""
    return str(round(value * 100, 2))


def check_protocol(result: EvaluationResult) -> str:
    """RobustBench's spelling of the record's threat model; a record off its protocol is refused."""
    board = BOARDS.get((result.dataset, result.threat))
    if board is None:
        boards = ", ".join(f"{d} {t}" for (d, t), t in BOARDS.items())
        raise RobenchError(f"RobustBench has no {result.dataset} {result.threat} board (it has {boards})")
    eps = default_eps(result.dataset, result.threat)
    if abs(result.eps - eps) > 1e-9:
        raise RobenchError(
            f"RobustBench's {result.dataset} {board} board is at eps "
            f"{DEFAULT_EPS[result.dataset][result.threat]}, this record at {eps_text(result.eps)}"
        )
    attacks = list(result.suite.get("attacks") or [])
    if not attacks or attacks[-1] not in AUTOATTACK:
        raise RobenchError(
            f"export needs a suite whose last stage is complete AutoAttack (standard); this record ran "
            f"{result.suite.get('name', '?')} ({' -> '.join(attacks) or 'no attacks'})"
        )
    points = TEST_POINTS[result.dataset]
    missing = result.data_info.missing if result.data_info else 0
    if result.split != "test" or result.n != points or missing:
        raise RobenchError(
            f"RobustBench evaluates all {points:,} {result.dataset} test points; this record has "
            f"n={result.n} of split '{result.split}'" + (f" ({missing} images missing)" if missing else "")
        )
    return board


def _paper(result: EvaluationResult, card: dict[str, Any]) -> tuple[str, str]:
    """(link, paper title) from the model card's ``paper`` and ``source``, where it has them."""
    summary = result.card
    paper = card.get("paper") or (summary.paper if summary else "") or ""
    source = card.get("source") or (summary.source if summary else "") or ""
    link = next((text for text in (paper, source) if text.startswith(("http://", "https://"))), "")
    return link, "" if paper == link else paper


def model_info(result: EvaluationResult, card: dict[str, Any] | None = None) -> dict[str, Any]:
    """The ``model_info`` JSON of a record on RobustBench's protocol (``card``: a leaderboard entry's)."""
    check_protocol(result)
    card = card or {}
    architecture = (result.model_info.architecture if result.model_info else None) or card.get("architecture")
    link, title = _paper(result, card)
    suite = result.suite
    footnote = (
        f"robench {suite.get('name')} v{suite.get('version')}: worst case per point over "
        f"{' -> '.join(suite.get('attacks', []))} and the diagnostics (verdict {result.verdict}), "
        f"seed {result.seed}, model {result.model}"
    )
    return {
        "link": link,
        "name": title,
        "authors": "",
        "additional_data": None,
        "number_forward_passes": result.eot_samples,
        "dataset": result.dataset,
        "venue": "",
        "architecture": architecture or "",
        "eps": DEFAULT_EPS[result.dataset][result.threat],
        "clean_acc": percent(result.clean_acc),
        "reported": "",
        "autoattack_acc": percent(result.robust_acc),
        "footnote": footnote,
        "unreliable": result.verdict == "unreliable",
    }
