"""Under torchrun, commands that evaluate in one piece and store refuse instead of running on every rank."""

from __future__ import annotations

import pytest

from robench.cli import main


@pytest.mark.parametrize(
    "args",
    [
        ["submit", "model.safetensors"],
        ["demo"],
        ["gate", "--model", "digits/linf/pgd", "--min-robust", "0.5"],
    ],
)
def test_whole_evaluation_commands_refuse_under_torchrun(args, monkeypatch, capsys, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("WORLD_SIZE", "2")
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err == (
        f"robench: error: robench {args[0]} does not run under torchrun (WORLD_SIZE=2): every rank would "
        "evaluate in full and store its own result; use 'robench evaluate' or 'robench train' "
        "under torchrun\n"
    )
    assert list(tmp_path.iterdir()) == []  # nothing evaluated, nothing written
