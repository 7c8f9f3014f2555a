"""Per-model reports: ``reports/<dataset>/<threat>/<name>.md`` and ``.html`` (self-contained) with plots
``<name>.ladder.png``, ``<name>.eps.png`` and, for models robench trained, ``<name>.training.png``."""

from __future__ import annotations

import base64
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape

from robench.core.cost import Cost
from robench.core.escape import markdown, terminal
from robench.core.limits import TRAINING_LOG_BYTES
from robench.core.names import check_name, inside, relative_file
from robench.core.record import CERTIFY_LABELS, best_certificate
from robench.diagnostics.catalog import meaning
from robench.diagnostics.verdict import model_findings
from robench.errors import RobenchError
from robench.leaderboard.entries import Entry
from robench.leaderboard.formatting import count_text, eps_text, pct
from robench.leaderboard.suites import SuiteShown
from robench.leaderboard.table import ladder_rows, stage_label
from robench.reports import plots
from robench.reports.curves import (
    TRAINING_COLUMNS,
    EpsCurve,
    certified_curve_from_record,
    curve_from_record,
    training_curve_from_record,
)


def reports_root(root: str | os.PathLike | None = None) -> Path:
    """The explicit folder, else ``$ROBENCH_REPORTS``, else ``./reports``."""
    return Path(root or os.environ.get("ROBENCH_REPORTS") or "reports")


@dataclass
class ReportFiles:
    md: Path
    html: Path
    figures: dict[str, Path] = field(default_factory=dict)


def reproduce_command(entry: Entry) -> str:
    """The evaluate command that re-runs this record (used when the caller has no better one)."""
    result = entry.result
    return (
        f"robench evaluate --model {result.dataset}/{result.threat}/{entry.name}"
        f" --suite {result.suite.get('name')}"
        f" --n {result.n} --seed {result.seed} --eps {result.eps!r}"
    )


def _row(stage: str, acc: float, attacked: int, broken: int, rejected: int, cost: Cost) -> dict[str, str]:
    return {
        "stage": stage_label(stage),
        "acc": pct(acc),
        "attacked": str(attacked),
        "broken": str(broken),
        "rejected": str(rejected),
        "passes": f"{count_text(cost.forward)} fwd + {count_text(cost.backward)} bwd",
        "seconds": f"{cost.seconds:.1f}",
    }


def _stage_rows(entry: Entry) -> list[dict[str, str]]:
    result = entry.result
    rows = [
        {
            "stage": "clean",
            "acc": pct(result.clean_acc),
            "attacked": str(result.n),
            "broken": "",
            "rejected": "",
            "passes": "",
            "seconds": "",
        }
    ]
    return rows + [
        _row(r.stage, r.robust_acc, r.attacked, r.broken, r.rejected, r.cost) for r in ladder_rows(result)
    ]


def training_log(training: Any, card_dir: Path | None) -> pd.DataFrame | None:
    """The per-epoch numbers of a card's ``[training] log`` (a CSV beside the card, inside its folder),
    or None when there is none to plot; a log that is not a CSV of numbers is one RobenchError."""
    log_name = training.get("log") if isinstance(training, dict) else None
    if not log_name or card_dir is None:
        return None
    path = relative_file(log_name, card_dir, "the card's [training] log")
    if not path.is_file():
        return None
    if path.stat().st_size > TRAINING_LOG_BYTES:
        raise RobenchError(f"training log {path} is larger than {TRAINING_LOG_BYTES:,} bytes")
    try:
        log = pd.read_csv(path, encoding="utf-8", encoding_errors="strict")
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        reason = " ".join(str(exc).split())[:160]
        raise RobenchError(f"training log {path} is not a CSV file of numbers ({reason})") from None
    columns = ["epoch", *(c for c, _ in TRAINING_COLUMNS if c in log.columns)]
    if "epoch" not in log.columns or len(columns) == 1:
        return None
    numbers = log[columns].apply(pd.to_numeric, errors="coerce").astype(float)
    if not numbers.map(math.isfinite).all().all():
        raise RobenchError(f"training log {path}: columns {', '.join(columns)} must hold finite numbers")
    return numbers


def _training_log(entry: Entry, card_dir: Path | None) -> pd.DataFrame | None:
    """The training log beside the card, else the training curve the entry kept (see reports.curves)."""
    log = training_log(entry.card.get("training"), card_dir)
    if log is not None:
        return log
    curve = training_curve_from_record(entry.result)
    return pd.DataFrame(curve) if curve else None


def _figures(
    entry: Entry, folder: Path, curve: EpsCurve | None, log: pd.DataFrame | None
) -> tuple[dict[str, Path], str]:
    result, name = entry.result, entry.name
    figures = {"ladder": plots.ladder_plot(result, _output(folder, f"{name}.ladder.png"))}
    curve = curve_from_record(result) or curve
    eps_note = ""
    eps_path = _output(folder, f"{name}.eps.png")
    if curve is not None:
        figures["eps"] = plots.eps_plot(
            curve.eps,
            curve.robust_acc,
            result.eps,
            eps_path,
            curve.source,
            certified=certified_curve_from_record(result),
            headline=(result.robust_acc, _headline(result)),
        )
        eps_note = curve.source
    else:
        eps_path.unlink(missing_ok=True)
    if log is not None:
        columns = [(c, label) for c, label in TRAINING_COLUMNS if c in log.columns]
        title = (
            f"{name}: validation accuracy per epoch (robench train, recipe {entry.card.get('recipe', '?')})"
        )
        figures["training"] = plots.training_plot(
            log, columns, _output(folder, f"{name}.training.png"), title
        )
    else:  # no training curve (any more): no stale figure either
        _output(folder, f"{name}.training.png").unlink(missing_ok=True)
    return figures, eps_note


def _output(folder: Path, file_name: str) -> Path:
    """A file of the report folder, which (symlinks resolved) it must not leave."""
    return inside(folder, folder / file_name, "report file")


def _headline(result) -> str:
    """What the report's headline robust accuracy is, for the eps plot's legend."""
    return f"worst case of the {result.suite.get('name', '?')} suite on n={result.n} points"


def _certificates(result) -> dict[str, Any]:
    """The bracket [certified, empirical] and one row per bound, for the report's summary."""
    best = best_certificate(result.certificates, result.eps)
    rows = [
        {
            "bound": c.label,
            "requested": CERTIFY_LABELS.get(c.requested_method, c.requested_method),
            "acc": pct(c.certified_acc),
            "bounded": str(c.bounded),
            "seconds": f"{c.seconds:.1f}",
            "work": count_text(c.work / c.bounded) if c.bounded else "0",
            "note": c.note,
        }
        for c in result.certificates
    ]
    return {
        "certified": f"{pct(best.certified_acc)} % ({best.label})" if best is not None else "",
        "bracket": f"[{pct(best.certified_acc)}, {pct(result.robust_acc)}] %" if best is not None else "",
        "certificates": rows,
        "certificates_note": result.certificates_note,
    }


def _context(entry: Entry, figures: dict[str, Path], eps_note: str, command: str | None) -> dict[str, Any]:
    result, card = entry.result, entry.card
    cost = result.total_cost
    flags = [
        {
            "code": f.code,
            "severity": f.severity + (", model finding" if f.finding == "model" else ""),
            "message": f.message,
            "explanation": dict(zip(("meaning", "action"), meaning(f), strict=True)),
        }
        for f in result.flags
    ]
    return {
        "name": entry.name,
        "result": result,
        "card": card,
        "eps": eps_text(result.eps),
        "clean": pct(result.clean_acc),
        "robust": pct(result.robust_acc),
        "passes": count_text(cost.passes),
        "per_point": count_text(cost.passes / max(result.n, 1)),
        "seconds": f"{cost.seconds:.1f}",
        "stages": _stage_rows(entry),
        "flags": flags,
        "model_findings": model_findings(result.flags),
        "figures": {key: path.name for key, path in figures.items()},
        "eps_note": eps_note,
        "command": command or reproduce_command(entry),
        "suite": SuiteShown.of(result),
        **_certificates(result),
    }


def report_folder(entry: Entry, root: str | os.PathLike | None = None) -> Path:
    """``<reports>/<dataset>/<threat>``; the entry's name, dataset and threat must be names."""
    result = entry.result
    for value, what in ((entry.name, "entry name"), (result.dataset, "dataset"), (result.threat, "threat")):
        check_name(value, what)
    return inside(reports_root(root), reports_root(root) / result.dataset / result.threat, "report folder")


def write_report(
    entry: Entry,
    *,
    curve: EpsCurve | None = None,
    card_dir: str | os.PathLike | None = None,
    command: str | None = None,
    root: str | os.PathLike | None = None,
) -> ReportFiles:
    """Write one model's report. ``curve``: robust accuracy against eps when the record holds none (the
    pipeline sweeps the model for it); ``card_dir`` is where the card (and its training log) lives;
    ``command`` reproduces the result. Text from the entry is escaped (robench.core.escape); every file
    lies in the report folder; a bad training log is an error before anything is written."""
    log = _training_log(entry, Path(card_dir) if card_dir is not None else None)
    folder = report_folder(entry, root)
    folder.mkdir(parents=True, exist_ok=True)
    figures, eps_note = _figures(entry, folder, curve, log)
    context = _context(entry, figures, eps_note, command)
    md = _output(folder, f"{entry.name}.md")
    md_context = context | {"command": Verbatim(terminal(context["command"]))}
    md_text = _environment(markdown_cells=True).get_template("report.md.j2").render(**md_context)
    md.write_text(md_text + "\n", encoding="utf-8")
    images = {key: base64.b64encode(path.read_bytes()).decode() for key, path in figures.items()}
    html = _output(folder, f"{entry.name}.html")
    page = _environment(markdown_cells=False).get_template("report.html.j2").render(**context, images=images)
    html.write_text(page + "\n", encoding="utf-8")
    return ReportFiles(md=md, html=html, figures=figures)


class Verbatim(str):
    """Text already safe where the Markdown template puts it (the one-line command in a code block)."""


def _markdown_value(value: Any) -> Any:
    if isinstance(value, str) and not isinstance(value, Verbatim):
        return markdown(value)
    return value


def _environment(*, markdown_cells: bool) -> Environment:
    """Jinja2 for the report templates: HTML autoescaped; in Markdown every value escaped as a cell."""
    return Environment(
        loader=PackageLoader("robench.reports", "templates"),
        autoescape=select_autoescape(("html.j2",)),
        finalize=_markdown_value if markdown_cells else None,
    )
