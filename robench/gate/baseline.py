"""Load a regression baseline: a results JSON, a leaderboard entry JSON (a record without samples),
or a leaderboard entry id ``<dataset>/<threat>/<name>`` (under $ROBENCH_LEADERBOARDS or ./leaderboards)."""

from __future__ import annotations

import json
from pathlib import Path

from robench.core.record import EvaluationResult
from robench.errors import RobenchError
from robench.leaderboard.entries import board_dir

_REQUIRED = ("dataset", "threat", "eps", "n", "robust_acc")


def load_baseline(spec: str | Path) -> EvaluationResult:
    path = Path(spec)
    if not path.is_file():
        parts = str(spec).split("/")
        entry = board_dir(parts[0], parts[1]) / "entries" / f"{parts[2]}.json" if len(parts) == 3 else None
        if entry is not None and entry.is_file():
            path = entry
        else:
            raise RobenchError(
                f"baseline '{spec}' is neither a file nor a leaderboard entry <dataset>/<threat>/<name>"
            )
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RobenchError(f"baseline {path} is not a readable JSON file ({exc})") from None
    if not isinstance(data, dict):
        raise RobenchError(f"baseline {path} is not a results record (expected a JSON object)")
    missing = [key for key in _REQUIRED if key not in data]
    if missing:
        raise RobenchError(
            f"baseline {path} is not a results record or leaderboard entry (missing {', '.join(missing)})"
        )
    accuracy = data["robust_acc"]
    if isinstance(accuracy, bool) or not isinstance(accuracy, int | float) or not 0 <= accuracy <= 1:
        raise RobenchError(f"baseline {path}: robust_acc must be a fraction in [0, 1], got {accuracy!r}")
    try:
        return EvaluationResult.from_dict(_with_defaults(data))
    except (TypeError, ValueError) as exc:
        raise RobenchError(f"baseline {path} does not follow the results schema ({exc})") from None


def _with_defaults(data: dict) -> dict:
    """Leaderboard entries may omit the per-run fields the gate does not need."""
    defaults = {
        "model": str(data.get("name", "baseline")),
        "checkpoint_sha256": None,
        "split": "test",
        "seed": 0,
        "subset_sha256": "",
        "suite": {},
        "mode": "cascade",
        "clean_acc": float("nan"),
        "stages": [],
        "samples": [],
    }
    return {**defaults, **data}
