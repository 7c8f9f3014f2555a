"""The env block of a results record: versions, device, git commit, python."""

from __future__ import annotations

import platform
import subprocess
from importlib import metadata
from pathlib import Path

import torch


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def git_commit() -> str | None:
    """The commit of the robench checkout, when robench runs from a git working tree."""
    root = Path(__file__).resolve().parents[2]
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=5, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def device_name(device: str) -> str:
    if device.startswith("cuda") and torch.cuda.is_available():
        return f"{device} ({torch.cuda.get_device_name(torch.device(device))})"
    return device


def environment(device: str) -> dict[str, str | None]:
    return {
        "robench": _version("robench"),
        "torch": torch.__version__,
        "pyautoattack": _version("pyautoattack"),
        "device": device_name(device),
        "git": git_commit(),
        "python": platform.python_version(),
    }
