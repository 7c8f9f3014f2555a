"""The board's clean-vs-robust scatter: entry labels never overlap each other or a marker, even when
entries have the same or nearly the same coordinates."""

from __future__ import annotations

from itertools import combinations

import pandas as pd
import pytest
from matplotlib.transforms import Bbox

from robench.leaderboard.plots import scatter_figure, scatter_plot

# (name, clean %, robust %, verdict): the digits board's bottom-right corner, an exact tie, and a cluster
ENTRIES = [
    ("trades", 95.5, 30.0, "reliable"),
    ("pgd", 74.5, 26.0, "reliable"),
    ("fgsm-rs", 95.0, 7.5, "unreliable"),
    ("standard", 97.0, 0.0, "reliable"),
    ("fgsm", 91.0, 0.0, "unreliable"),
    ("twin-a", 50.0, 20.0, "reliable"),
    ("twin-b", 50.0, 20.0, "unreliable"),
    ("c1", 60.0, 60.0, "reliable"),
    ("c2", 61.0, 60.0, "reliable"),
    ("c3", 60.0, 61.0, "reliable"),
    ("c4", 61.0, 61.0, "unreliable"),
]


def _frame() -> pd.DataFrame:
    rows = [(n, c / 100, r / 100, v) for n, c, r, v in ENTRIES]
    return pd.DataFrame(rows, columns=["model", "clean_acc", "robust_acc", "verdict"])


def _label_boxes(fig) -> dict[str, Bbox]:
    renderer = fig.canvas.get_renderer()
    (ax,) = fig.axes
    return {text.get_text(): text.get_window_extent(renderer) for text in ax.texts}


@pytest.mark.parametrize("dpi", [100, 110])  # the figure's, and the PNG's (plots._save)
def test_labels_of_colliding_entries_do_not_overlap(dpi):
    fig = scatter_figure(_frame(), "collisions")
    fig.set_dpi(dpi)
    boxes = _label_boxes(fig)
    assert sorted(boxes) == sorted(name for name, *_ in ENTRIES)
    overlapping = [(a, b) for a, b in combinations(boxes, 2) if boxes[a].overlaps(boxes[b])]
    assert overlapping == []
    ax = fig.axes[0]
    half = 3 * dpi / 72  # points to pixels: 3 points, inside the 7-point markers
    for name, clean, robust, _ in ENTRIES:
        x, y = ax.transData.transform((clean, robust))
        marker = Bbox.from_extents(x - half, y - half, x + half, y + half)
        assert [label for label, box in boxes.items() if box.overlaps(marker)] == []
        distance = max(abs(boxes[name].x0 - x), abs(boxes[name].x1 - x), abs(boxes[name].y0 - y))
        assert distance < 70 * dpi / 72  # each label stays beside its own point (within 70 points)


def test_label_placement_is_deterministic(tmp_path):
    first = scatter_plot(_frame(), tmp_path / "a.png", "collisions").read_bytes()
    assert scatter_plot(_frame(), tmp_path / "b.png", "collisions").read_bytes() == first
