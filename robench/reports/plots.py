"""The figures of boards and reports (matplotlib, object API on the Agg canvas: no display needed)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from robench.engine.record import EvaluationResult

_METADATA = {"Software": None}  # byte-stable PNGs across matplotlib versions


def _save(fig: Figure, path: Path) -> Path:
    FigureCanvasAgg(fig)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, metadata=_METADATA, bbox_inches="tight")
    return path


def _percent_axis(ax, label: str) -> None:
    ax.set_ylim(-2, 102)
    ax.set_ylabel(label)
    ax.grid(alpha=0.3)


def scatter_plot(frame: pd.DataFrame, path: Path, title: str) -> Path:
    """Clean vs worst-case robust accuracy of every entry on a board; unreliable entries in red crosses."""
    fig = Figure(figsize=(5.5, 4.5))
    ax = fig.add_subplot()
    for unreliable, marker, color, label in (
        (False, "o", "#1f6feb", "reliable"),
        (True, "X", "#d1242f", "unreliable"),
    ):
        part = frame[(frame["verdict"] == "unreliable") == unreliable]
        if part.empty:
            continue
        ax.scatter(
            100 * part["clean_acc"], 100 * part["robust_acc"], marker=marker, color=color, s=50, label=label
        )
        for _, row in part.iterrows():
            ax.annotate(row["model"], (100 * row["clean_acc"], 100 * row["robust_acc"]), fontsize=8,
                        xytext=(4, 4), textcoords="offset points")  # fmt: skip
    ax.set_xlim(-2, 102)
    ax.set_xlabel("clean accuracy (%)")
    _percent_axis(ax, "robust accuracy, worst case (%)")
    ax.set_title(title)
    ax.legend(loc="upper left", fontsize=8)
    return _save(fig, path)


def ladder_plot(result: EvaluationResult, path: Path) -> Path:
    """Accuracy after each stage of the suite (the ladder of attack strength), clean first."""
    labels = ["clean", *(s.attack for s in result.stages)]
    values = [100 * result.clean_acc, *(100 * s.robust_acc for s in result.stages)]
    fig = Figure(figsize=(6, 3.8))
    ax = fig.add_subplot()
    ax.plot(range(len(values)), values, marker="o", color="#1f6feb")
    for x, y in enumerate(values):
        ax.annotate(f"{y:.1f}", (x, y), fontsize=8, xytext=(0, 6), textcoords="offset points", ha="center")
    ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right")
    _percent_axis(ax, "accuracy left (%)")
    ax.set_title(f"{result.model}: accuracy along the attack ladder (eps {result.eps:g})")
    return _save(fig, path)


def eps_plot(eps: Sequence[float], acc: Sequence[float], eval_eps: float, path: Path, note: str) -> Path:
    """Robust accuracy against eps; the evaluated eps is marked."""
    fig = Figure(figsize=(6, 3.8))
    ax = fig.add_subplot()
    ax.plot(list(eps), [100 * a for a in acc], marker="o", color="#1f6feb")
    ax.axvline(eval_eps, color="#888888", linestyle="--", linewidth=1, label=f"evaluated eps {eval_eps:g}")
    ax.set_xlabel("eps")
    _percent_axis(ax, "robust accuracy (%)")
    ax.set_title(f"robust accuracy vs eps ({note})")
    ax.legend(fontsize=8)
    return _save(fig, path)


def training_plot(log: pd.DataFrame, columns: Sequence[tuple[str, str]], path: Path, title: str) -> Path:
    """Per-epoch curves from a training log: ``columns`` are (log column, legend label) pairs."""
    fig = Figure(figsize=(6, 3.8))
    ax = fig.add_subplot()
    for column, label in columns:
        values = log[column].astype(float)
        scale = 100 if values.max() <= 1.0 else 1
        ax.plot(log["epoch"], scale * values, marker=".", label=label)
    ax.set_xlabel("epoch")
    _percent_axis(ax, "accuracy (%)")
    ax.set_title(title)
    ax.legend(fontsize=8)
    return _save(fig, path)
