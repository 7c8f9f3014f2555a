"""What a run leaves in its output folder, all next to each other:

- ``<name>.safetensors``       final weights (after an early stop: the restored last good weights)
- ``<name>.best.safetensors``  weights of the epoch with the best validation PGD accuracy (Rice et al.)
- ``<name>.toml``              model card (docs/evaluate.md#model-cards), pointing at the final checkpoint
- ``<name>.log.csv`` / ``<name>.log.json``  one row per epoch; the JSON adds config, flags and summary
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from robench.core.names import check_name
from robench.models.cards import ModelCard, write_card
from robench.models.layouts import concrete_layout
from robench.training.config import TrainConfig
from robench.training.state import atomic_write_bytes

LOG_COLUMNS = (
    "epoch", "lr", "train_loss", "train_acc", "val_clean_acc", "val_fgsm_acc", "val_pgd_acc",
    "fgsm_pgd_gap", "catastrophic_overfitting", "best", "seconds",
)  # fmt: skip


class RunPaths:
    """A run's files in ``out_dir``; the name is checked before anything is trained or written."""

    def __init__(self, out_dir: Path, name: str) -> None:
        self.out_dir, self.name = out_dir, check_name(name, "run name (--name)")
        self.final = out_dir / f"{name}.safetensors"
        self.best = out_dir / f"{name}.best.safetensors"
        self.card = out_dir / f"{name}.toml"
        self.log_csv = out_dir / f"{name}.log.csv"
        self.log_json = out_dir / f"{name}.log.json"


def write_logs(paths: RunPaths, rows: list[dict[str, Any]], summary: dict[str, Any]) -> None:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=LOG_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _csv_value(row[k]) for k in LOG_COLUMNS})
    atomic_write_bytes(paths.log_csv, buffer.getvalue().encode())
    atomic_write_bytes(paths.log_json, json.dumps({**summary, "epochs": rows}, indent=1).encode())


def _csv_value(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, float):
        return f"{value:.6g}"
    return value


def write_model_card(
    paths: RunPaths,
    config: TrainConfig,
    *,
    num_classes: int,
    mean: tuple[float, ...],
    std: tuple[float, ...],
    sha256: str,
    paper: str,
    training: dict[str, Any],
) -> Path:
    card = ModelCard(
        name=paths.name,
        architecture=concrete_layout(config.arch),  # a family name is resolved: the card names the layout
        dataset=config.dataset,
        num_classes=num_classes,
        threat=config.threat,
        eps=config.eps,
        mean=[float(m) for m in mean],
        std=[float(s) for s in std],
        checkpoint=paths.final.name,
        sha256=sha256,
        recipe=config.recipe,
        source="robench",
        paper=paper,
        arch_kwargs=dict(config.arch_kwargs),
        training={k: v for k, v in training.items() if v is not None},
    )
    return write_card(card, paths.card)
