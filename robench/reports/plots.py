"""The figures of reports: the attack ladder, robust accuracy against eps, training curves."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from robench.core.escape import tex
from robench.core.record import EvaluationResult
from robench.leaderboard.plots import percent_axis, save_figure
from robench.leaderboard.table import ladder


def ladder_plot(result: EvaluationResult, path: Path) -> Path:
    """Accuracy after each stage of the suite (the ladder of attack strength), clean first."""
    rows = ladder(result)
    labels = ["clean", *(name for name, _ in rows)]
    values = [100 * result.clean_acc, *(100 * acc for _, acc in rows)]
    fig = Figure(figsize=(6, 3.8))
    ax = fig.add_subplot()
    ax.plot(range(len(values)), values, marker="o", color="#1f6feb")
    for x, y in enumerate(values):
        ax.annotate(f"{y:.1f}", (x, y), fontsize=8, xytext=(0, 6), textcoords="offset points", ha="center")
    ax.set_xticks(range(len(labels)), [tex(label) for label in labels], rotation=30, ha="right")
    percent_axis(ax, "accuracy left (%)")
    ax.set_title(tex(f"{result.model}: accuracy along the attack ladder (eps {result.eps:g})"))
    return save_figure(fig, path)


def eps_plot(
    eps: Sequence[float],
    acc: Sequence[float],
    eval_eps: float,
    path: Path,
    note: str,
    certified=None,
    headline: tuple[float, str] | None = None,
) -> Path:
    """Robust accuracy against eps; the evaluated eps is marked. ``certified`` (a reports.curves.EpsCurve
    of certified accuracies) adds the lower side of the bracket: the truth lies between the two curves.
    ``headline`` (accuracy, what it is) marks the report's headline number at the evaluated eps: the curve
    may come from other points or another attack (``note`` says which), and the legend says both."""
    fig = Figure(figsize=(6, 3.8))
    ax = fig.add_subplot()
    label = tex(f"{note} (attacks: upper bound)" if certified is not None else note)
    ax.plot(list(eps), [100 * a for a in acc], marker="o", color="#1f6feb", label=label)
    if headline is not None:
        value, what = headline
        ax.plot(
            [eval_eps],
            [100 * value],
            marker="*",
            markersize=14,
            color="#d1242f",
            linestyle="none",
            zorder=5,
            label=tex(f"headline {100 * value:.1f} %: {what}"),
        )
    if certified is not None:
        lower = [100 * a for a in certified.robust_acc]
        ax.plot(
            certified.eps, lower, marker="s", color="#2da44e", label=tex(f"{certified.source} (lower bound)")
        )
        if list(certified.eps) == list(eps):
            ax.fill_between(list(eps), lower, [100 * a for a in acc], color="#2da44e", alpha=0.12)
    ax.axvline(eval_eps, color="#888888", linestyle="--", linewidth=1, label=f"evaluated eps {eval_eps:g}")
    ax.set_xlabel("eps")
    percent_axis(ax, "robust accuracy (%)")
    ax.set_title("robust accuracy vs eps")
    ax.legend(fontsize=8)
    return save_figure(fig, path)


def training_plot(log: pd.DataFrame, columns: Sequence[tuple[str, str]], path: Path, title: str) -> Path:
    """Per-epoch curves from a training log: ``columns`` are (log column, legend label) pairs."""
    fig = Figure(figsize=(6, 3.8))
    ax = fig.add_subplot()
    for column, label in columns:
        values = log[column].astype(float)
        scale = 100 if values.max() <= 1.0 else 1
        ax.plot(log["epoch"], scale * values, marker=".", label=label)
    ax.set_xlabel("epoch")
    percent_axis(ax, "accuracy (%)")
    ax.set_title(tex(title))
    ax.legend(fontsize=8)
    return save_figure(fig, path)
