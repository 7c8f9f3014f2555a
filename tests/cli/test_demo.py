"""``robench demo`` on a two-model stand-in zoo: trains what is missing, evaluates, builds board and reports,
and a rerun reuses every stored result. (The real zoo's story is checked on the committed entries.)"""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from robench.cli import main
from robench.models.cards import load_card, write_card
from robench.models.checkpoint import save_checkpoint
from robench.models.loading import load_model
from robench.pipeline.submit import EVALUATION_N

REPO = Path(__file__).resolve().parents[2]


def _copy_card(card, folder: Path, name: str, nudge: float = 0.0) -> None:
    """A zoo card for the tiny model; ``nudge`` shifts the last bias so the checkpoint (sha256) differs."""
    if nudge:
        model = load_model(card).module
        model[-1].bias.add_(nudge)
        sha = save_checkpoint(model, folder / f"{name}.safetensors")
    else:
        shutil.copy(card.checkpoint_path, folder / f"{name}.safetensors")
        sha = card.sha256
    copy = replace(card, name=name, checkpoint=f"{name}.safetensors", sha256=sha, path=None)
    write_card(copy, folder / f"{name}.toml")


@pytest.mark.slow
def test_demo_trains_missing_models_evaluates_and_reuses(tiny_digits_card, tmp_path, monkeypatch, capsys):
    zoo = tmp_path / "models" / "digits" / "linf"
    zoo.mkdir(parents=True)
    monkeypatch.setenv("ROBENCH_MODELS", str(tmp_path / "models"))
    monkeypatch.setattr("robench.training.zoo.ZOO", {"standard": None, "fgsm": None})
    _copy_card(tiny_digits_card, zoo, "standard")
    trained = []

    def fake_train_zoo(out_dir, names, dataset="digits"):  # the real trainer takes minutes; this stands in
        trained.extend(names)
        for name in names:
            _copy_card(tiny_digits_card, Path(out_dir), name, nudge=1e-3)

    monkeypatch.setattr("robench.training.zoo.train_zoo", fake_train_zoo)
    places = [
        "--store",
        str(tmp_path / "s.sqlite"),
        "--leaderboards",
        str(tmp_path / "lb"),
        "--reports",
        str(tmp_path / "rp"),
    ]

    assert main(["demo", *places]) == 0
    out = capsys.readouterr().out
    assert trained == ["fgsm"]
    assert out.count("evaluated") == 2 and "leaderboard:" in out and "reports:" in out
    assert f"digits linf eps 0.3, n={EVALUATION_N['digits']} test images, suite standard" in out
    board = (tmp_path / "lb" / "digits" / "linf.md").read_text()
    assert "| [standard](" in board and "| [fgsm](" in board  # each links to its report
    for name in ("standard", "fgsm"):
        assert (tmp_path / "rp" / "digits" / "linf" / f"{name}.html").is_file()
        assert (tmp_path / "rp" / "digits" / "linf" / f"{name}.ladder.png").is_file()

    def refuse(*args, **kwargs):
        raise AssertionError("the rerun evaluated again instead of reusing the store")

    written = {p: p.read_bytes() for p in tmp_path.glob("[lr][bp]/**/*") if p.is_file()}
    monkeypatch.setattr("robench.engine.evaluate.evaluate", refuse)
    assert main(["demo", *places]) == 0
    assert capsys.readouterr().out.count("reused") == 2 and trained == ["fgsm"]
    # the rerun leaves every entry, board, report and figure byte for byte as it was (a clean git status)
    again = {p: p.read_bytes() for p in tmp_path.glob("[lr][bp]/**/*") if p.is_file()}
    assert again.keys() == written.keys() and [p for p in again if again[p] != written[p]] == []


def _shipped_entries() -> dict[str, dict]:
    folder = REPO / "leaderboards" / "digits" / "linf" / "entries"
    return {p.stem: json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))}


@pytest.mark.skipif(not _shipped_entries(), reason="no committed digits leaderboard (run robench demo)")
def test_the_committed_demo_board_tells_the_story():
    """The shipped board: standard ~0 % robust, PGD and TRADES honest and reliable, FGSM caught."""
    entries = _shipped_entries()
    assert {"standard", "pgd", "trades", "fgsm", "fgsm-rs"} <= set(entries)
    assert entries["standard"]["robust_acc"] < 0.05 and entries["standard"]["clean_acc"] > 0.9
    for name in ("pgd", "trades"):
        assert entries[name]["verdict"] == "reliable" and entries[name]["robust_acc"] > 0.2
    fgsm = entries["fgsm"]  # caught: a model finding beside a verdict that lets its 0.0 % stand
    assert fgsm["verdict"] == "reliable" and fgsm["robust_acc"] == 0.0
    assert ("catastrophic_overfitting", "error", "model") in {
        (f["code"], f["severity"], f["finding"]) for f in fgsm["flags"]
    }
    assert all(
        e["n"] == EVALUATION_N["digits"] and e["suite"]["name"] == "standard" for e in entries.values()
    )
    for name, entry in entries.items():  # the board describes the shipped checkpoints, not stale ones
        card = load_card(REPO / "models" / "digits" / "linf" / f"{name}.toml")
        assert entry["checkpoint_sha256"] == card.sha256, f"{name}: rerun robench demo --force"
    board = (REPO / "leaderboards" / "digits" / "linf.md").read_text()
    rows = {line.split(" | ")[1]: line for line in board.splitlines() if line.startswith("| ")}
    fgsm_row = next(row for name, row in rows.items() if name.startswith("[fgsm]("))
    assert "| reliable; the number stands | catastrophic_overfitting |" in fgsm_row
    ranked = [name.split("]")[0].lstrip("[") for name in rows if name.startswith("[")]
    assert ranked.index("standard") < ranked.index("fgsm")  # 0.0 % each: the higher clean accuracy first
    for name in entries:
        assert (REPO / "reports" / "digits" / "linf" / f"{name}.md").is_file()
