"""Figures of the boards (matplotlib, object API on the Agg canvas: no display needed), and the figure
helpers the reports share."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.transforms import Bbox

from robench.core.escape import tex

_METADATA = {"Software": None}  # byte-stable PNGs across matplotlib versions


def save_figure(fig: Figure, path: Path) -> Path:
    FigureCanvasAgg(fig)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, metadata=_METADATA, bbox_inches="tight")
    return path


def percent_axis(ax, label: str) -> None:
    ax.set_ylim(-2, 102)
    ax.set_ylabel(label)
    ax.grid(alpha=0.3)


def scatter_plot(frame: pd.DataFrame, path: Path, title: str) -> Path:
    """Clean vs worst-case robust accuracy of every entry on a board; unreliable entries in red crosses."""
    return save_figure(scatter_figure(frame, title), path)


def scatter_figure(frame: pd.DataFrame, title: str) -> Figure:
    """The scatter of ``scatter_plot``; entry labels are placed so that they do not overlap."""
    fig = Figure(figsize=(5.5, 4.5))
    FigureCanvasAgg(fig)  # a renderer, to measure the labels
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
    ax.set_xlim(-2, 102)
    ax.set_xlabel("clean accuracy (%)")
    percent_axis(ax, "robust accuracy, worst case (%)")
    ax.set_title(tex(title))
    legend = ax.legend(loc="upper left", fontsize=8)
    points = [(tex(r["model"]), 100 * r["clean_acc"], 100 * r["robust_acc"]) for _, r in frame.iterrows()]
    place_labels(ax, points, avoid=[legend])
    return fig


# Label spots around a point, tried in order: (x, y offset in points, horizontal and vertical alignment).
# Ring 0 touches the point's corners; each further ring is one text line further up or down.
_SPOTS = [((5, 2), "left", "bottom"), ((5, -2), "left", "top"), ((-5, 2), "right", "bottom"),
          ((-5, -2), "right", "top")]  # fmt: skip
_RINGS, _LINE = 5, 9  # rings tried; points per ring
_MARKER = 3.5  # points: half a marker's width (s=50 is about 7 points across), kept free of labels


def _spots():
    for ring in range(_RINGS):
        for (dx, dy), ha, va in _SPOTS:
            yield ring, (dx, dy + (_LINE * ring if dy > 0 else -_LINE * ring)), ha, va


def place_labels(ax, points: list[tuple[str, float, float]], avoid=(), fontsize: float = 8) -> list:
    """Annotate each (label, x, y), in order, at the spot that overlaps fewest of the markers, the labels
    placed so far and the ``avoid`` artists; then the nearest ring; then one inside the axes; then the
    first. Deterministic; returns the annotations."""
    renderer = ax.figure.canvas.get_renderer()
    pixels = ax.figure.dpi / 72
    inside = ax.get_window_extent(renderer)
    taken = [artist.get_window_extent(renderer) for artist in avoid]
    half = _MARKER * pixels
    for _, x, y in points:
        cx, cy = ax.transData.transform((x, y))
        taken.append(Bbox.from_extents(cx - half, cy - half, cx + half, cy + half))
    placed = []
    for text, x, y in points:
        best = None
        for ring, offset, ha, va in _spots():
            label = ax.annotate(
                text, (x, y), xytext=offset, textcoords="offset points", ha=ha, va=va, fontsize=fontsize
            )
            box = label.get_window_extent(renderer).padded(pixels)  # a pixel of space around the text
            outside = not (inside.contains(box.x0, box.y0) and inside.contains(box.x1, box.y1))
            cost = (sum(box.overlaps(other) for other in taken), ring, outside)
            if best is None or cost < best[0]:
                if best is not None:
                    best[1].remove()
                best = (cost, label, box)
            else:
                label.remove()
            overlaps, best_ring, best_outside = best[0]
            if overlaps == 0 and (not best_outside or ring > best_ring):
                break  # no later spot can be better
        placed.append(best[1])
        taken.append(best[2])
    return placed
