"""The resume state of an interrupted run: tensors in safetensors, everything else in JSON, never pickle.

``<name>.resume.safetensors`` holds the model, the last good weights, optimiser tensors and RNG states;
``<name>.resume.json`` holds the config, progress (epoch, step), schedule position, history and the
sha256 of the tensor file. Both are written to a temporary file and renamed (atomic); the JSON is
written last, so a crash between the two leaves the previous, consistent pair detectable by hash.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from robench.errors import CheckpointError
from robench.models.checkpoint import sha256_file

FORMAT_VERSION = 1


def atomic_write_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def save_tensors_atomic(tensors: dict[str, torch.Tensor], path: Path, metadata: dict | None = None) -> None:
    tmp = path.with_name(path.name + ".tmp")
    save_file({k: v.detach().cpu().contiguous().clone() for k, v in tensors.items()}, str(tmp), metadata)
    os.replace(tmp, path)


def optimizer_to_parts(optimizer: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Split an optimiser state dict into named tensors and a JSON-able rest."""
    state = optimizer.state_dict()
    tensors, plain = {}, {}
    for index, entry in state["state"].items():
        for key, value in entry.items():
            if isinstance(value, torch.Tensor):
                tensors[f"optim.{index}.{key}"] = value
            else:
                plain.setdefault(str(index), {})[key] = value
    return tensors, {"param_groups": state["param_groups"], "plain_state": plain}


def optimizer_from_parts(
    optimizer: torch.optim.Optimizer, tensors: dict[str, torch.Tensor], rest: dict[str, Any]
) -> None:
    state: dict[int, dict[str, Any]] = {}
    for name, value in tensors.items():
        if name.startswith("optim."):
            _, index, key = name.split(".", 2)
            state.setdefault(int(index), {})[key] = value
    for index, entry in rest["plain_state"].items():
        state.setdefault(int(index), {}).update(entry)
    optimizer.load_state_dict({"state": state, "param_groups": rest["param_groups"]})


class ResumeState:
    def __init__(self, out_dir: Path, name: str) -> None:
        self.tensor_path = out_dir / f"{name}.resume.safetensors"
        self.json_path = out_dir / f"{name}.resume.json"

    def exists(self) -> bool:
        return self.json_path.exists()

    def save(self, tensors: dict[str, torch.Tensor], info: dict[str, Any]) -> None:
        save_tensors_atomic(tensors, self.tensor_path)
        record = {"format_version": FORMAT_VERSION, **info, "tensors_sha256": sha256_file(self.tensor_path)}
        atomic_write_bytes(self.json_path, json.dumps(record, indent=1).encode())

    def load(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        try:
            info = json.loads(self.json_path.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise CheckpointError(f"resume state {self.json_path} cannot be read: {exc}") from None
        if info.get("format_version") != FORMAT_VERSION:
            raise CheckpointError(f"resume state {self.json_path} has an unknown format version")
        if not self.tensor_path.exists() or sha256_file(self.tensor_path) != info.get("tensors_sha256"):
            raise CheckpointError(
                f"resume state {self.tensor_path} is missing or does not match {self.json_path.name}"
            )
        return load_file(str(self.tensor_path)), info

    def clear(self) -> None:
        for path in (self.tensor_path, self.json_path):
            path.unlink(missing_ok=True)
