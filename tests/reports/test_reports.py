"""Per-model reports: md + self-contained html, valid PNG plots, flags explained, eps curves."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image
from synthetic_records import build_result

from robench.core.record import Flag
from robench.leaderboard.entries import make_entry
from robench.pipeline.sweep import sweep
from robench.reports.build import write_report
from robench.reports.curves import curve_from_record

LOG = "epoch,val_clean_acc,val_fgsm_acc,val_pgd_acc\n1,0.5,0.3,0.2\n2,0.8,0.6,0.4\n3,0.9,0.7,0.05\n"


def _valid_png(path: Path) -> tuple[int, int]:
    with Image.open(path) as image:
        image.verify()
        assert image.format == "PNG"
        return image.size


@pytest.fixture
def fgsm_entry():
    flag = Flag("catastrophic_overfitting", "error", "FGSM leaves 70 % but PGD-20 5 %.", {"fgsm_acc": 0.7})
    sweep_flag = Flag(
        "non_monotonic_eps", "error", "rises", {"eps": [0.15, 0.3, 0.6], "robust_acc": [0.4, 0.5, 0.1]}
    )
    result = build_result("fgsm", 0.95, [0.7, 0.1, 0.05, 0.05, 0.05, 0.05], verdict="unreliable",
                          flags=(flag, sweep_flag))  # fmt: skip
    card = {"architecture": "small_cnn", "recipe": "fgsm", "training": {"log": "fgsm.log.csv"}}
    return make_entry("fgsm", result, card)


def test_report_files_plots_and_flag_explanations(fgsm_entry, tmp_path):
    card_dir = tmp_path / "cards"
    card_dir.mkdir()
    (card_dir / "fgsm.log.csv").write_text(LOG)
    files = write_report(
        fgsm_entry, card_dir=card_dir, command="robench submit x --card y --force", root=tmp_path / "r"
    )
    assert files.md == tmp_path / "r" / "digits" / "linf" / "fgsm.md"
    assert set(files.figures) == {"ladder", "eps", "training"}
    for path in files.figures.values():
        assert path.parent == files.md.parent and _valid_png(path)[0] > 200
    text = files.md.read_text()
    assert "UNRELIABLE" in text and "`catastrophic_overfitting`" in text
    assert "*What it means:* Single-step attacks (FGSM) barely hurt the model" in text
    assert "*What to do:*" in text and "robench submit x --card y --force" in text
    assert "| PGD-7 | 10.0 |" in text and "Source: diagnostics (non_monotonic_eps)" in text
    page = files.html.read_text()
    assert page.count("data:image/png;base64,") == 3 and 'src="http' not in page
    assert "FGSM leaves 70 % but PGD-20 5 %." in page


def test_without_sweep_model_or_log_only_the_ladder_is_drawn(tmp_path):
    entry = make_entry("pgd", build_result("pgd", 0.9, [0.6, 0.55, 0.5, 0.5, 0.45, 0.45]), {"recipe": "pgd"})
    files = write_report(entry, root=tmp_path)
    assert set(files.figures) == {"ladder"}
    text = files.md.read_text()
    assert "No diagnostic flagged this evaluation." in text and "No eps sweep is available" in text
    assert "robench evaluate --model digits/linf/pgd --suite standard --n 20 --seed 0" in text


def test_curve_from_record_reads_sorted_sweeps():
    result = build_result("x", 0.9, [0.5] * 6)
    assert curve_from_record(result) is None
    result.extra["eps_sweep"] = {"eps": [0.6, 0.15, 0.3], "robust_acc": [0.0, 0.6, 0.3]}
    curve = curve_from_record(result)
    assert curve.eps == [0.15, 0.3, 0.6] and curve.robust_acc == [0.6, 0.3, 0.0]


@pytest.mark.slow
def test_report_time_sweep_on_a_real_model(tiny_digits_model):
    """A standard (non-robust) model: accuracy falls with eps and is 0 at 2 x 0.3."""
    result = build_result("tiny", 0.97, [0.0] * 6)
    curve = sweep(tiny_digits_model, result, n=40)
    assert curve.eps == pytest.approx([0.075, 0.15, 0.225, 0.3, 0.45, 0.6])
    assert curve.robust_acc[-1] == 0.0
    assert curve.robust_acc[0] >= curve.robust_acc[3]
    assert all(0.0 <= a <= 1.0 for a in curve.robust_acc)


def test_report_command_regenerates_reports_from_entries(make_result, tmp_path, monkeypatch, capsys):
    from robench.cli import main
    from robench.leaderboard.entries import write_entry

    monkeypatch.setenv("ROBENCH_MODELS", str(tmp_path / "no-models"))  # no card: report from the entry alone
    lb, rp = tmp_path / "lb", tmp_path / "rp"
    for name in ("pgd", "standard"):
        write_entry(make_entry(name, make_result(name, 0.9, [0.5] * 6), {"recipe": name}), lb)
    assert main(["report", "pgd", "--leaderboards", str(lb), "--reports", str(rp)]) == 0
    assert (rp / "digits" / "linf" / "pgd.html").is_file() and not (
        rp / "digits" / "linf" / "standard.md"
    ).exists()
    assert main(["report", "nope", "--leaderboards", str(lb), "--reports", str(rp)]) == 2
    assert "no entry 'nope' on the digits/linf board" in capsys.readouterr().err


def _bracketed_entry():
    from robench.core.record import CertificateSummary

    result = build_result("ibp", 0.9, [0.6, 0.55, 0.5, 0.5, 0.45, 0.45])
    result.certificates = [
        CertificateSummary("ibp", "ibp", "linf", 0.3, 20, 6, list(range(0, 30, 5)), bounded=18, seconds=0.2,
                           work=36.0),
        CertificateSummary("crown-ibp", "crown", "linf", 0.3, 20, 8, list(range(0, 40, 5)), bounded=12,
                           seconds=1.5, work=132.0, note="full CROWN would bound 30,000 neurons per point"),
    ]  # fmt: skip
    result.extra["eps_sweep"] = {"eps": [0.15, 0.3, 0.6], "robust_acc": [0.7, 0.45, 0.1], "source": "pgd-20"}
    result.extra["certified_sweep"] = {
        "eps": [0.15, 0.3, 0.6], "certified_acc": [0.6, 0.4, 0.0], "source": "IBP + CROWN-IBP, n=20"
    }  # fmt: skip
    return make_entry("ibp", result, {"architecture": "small_cnn", "recipe": "ibp"})


def test_the_report_shows_the_bracket_and_plots_both_curves(tmp_path, monkeypatch):
    from robench.reports import plots

    drawn, original = [], plots.eps_plot
    monkeypatch.setattr(plots, "eps_plot", lambda *a, **k: drawn.append(k["certified"]) or original(*a, **k))
    files = write_report(_bracketed_entry(), root=tmp_path)
    text = files.md.read_text()
    assert "| Certified accuracy (lower bound) | 40.0 % (CROWN-IBP): the true robust accuracy lies in " \
           "[40.0, 45.0] % |" in text  # fmt: skip
    assert "## Certified robustness" in text
    assert (
        "| IBP | IBP | 30.0 | 18 | 0.2 | 2 |" in text
        and "| CROWN-IBP | CROWN | 40.0 | 12 | 1.5 | 11 |" in text
    )
    assert "- CROWN: full CROWN would bound 30,000 neurons per point" in text
    (certified,) = drawn
    assert (certified.eps, certified.robust_acc) == ([0.15, 0.3, 0.6], [0.6, 0.4, 0.0])
    assert _valid_png(files.figures["eps"])[0] > 200
    page = files.html.read_text()
    assert "Certified robustness" in page and "lies in [40.0, 45.0] %" in page


def test_a_report_without_certificates_says_so_and_never_shows_zero(fgsm_entry, tmp_path):
    text = write_report(fgsm_entry, root=tmp_path).md.read_text()
    assert "| Certified accuracy (lower bound) | – |" in text and "## Certified robustness" not in text
    fgsm_entry.result.certificates_note = "cannot certify: layer 'act' (Tanh) has no bound rule"
    text = write_report(fgsm_entry, root=tmp_path).md.read_text()
    assert (
        "| Certified accuracy (lower bound) | – (cannot certify: layer 'act' (Tanh) has no bound rule) |"
        in text
    )


def test_the_report_keeps_its_training_curves_and_marks_the_headline(tmp_path, monkeypatch):
    """Regenerated from the entry alone (no card folder: the model was trained outside ./models), the report
    still draws the training curves the entry kept; without them no stale figure is left behind."""
    from robench.reports import plots

    result = build_result("pgd", 0.9, [0.6, 0.5, 0.45, 0.45, 0.4, 0.4])
    result.extra["eps_sweep"] = {
        "eps": [0.15, 0.3, 0.6],
        "robust_acc": [0.7, 0.5, 0.1],
        "source": "pgd-20, n=10",
    }
    result.extra["training_curve"] = {"epoch": [1, 2, 3], "val_clean_acc": [0.5, 0.8, 0.9],
                                      "val_pgd_acc": [0.2, 0.4, 0.45]}  # fmt: skip
    drawn, original = [], plots.eps_plot
    monkeypatch.setattr(plots, "eps_plot", lambda *a, **k: drawn.append(k["headline"]) or original(*a, **k))
    files = write_report(make_entry("pgd", result, {"architecture": "small_cnn"}), root=tmp_path)
    assert set(files.figures) == {"ladder", "eps", "training"}
    assert drawn == [(0.4, "worst case of the standard suite on n=20 points")]
    del result.extra["training_curve"]
    files = write_report(make_entry("pgd", result, {"architecture": "small_cnn"}), root=tmp_path)
    assert "training" not in files.figures and not (files.md.parent / "pgd.training.png").exists()


def test_a_model_finding_stands_beside_a_reliable_verdict_in_the_report(tmp_path):
    flag = Flag("catastrophic_overfitting", "error", "FGSM 70 % vs PGD-20 0 %.", {}, "model")
    result = build_result("fgsm", 0.95, [0.7, 0.1, 0.0, 0.0, 0.0, 0.0], flags=(flag,))
    text = write_report(make_entry("fgsm", result, {}), root=tmp_path).md.read_text()
    assert "**Reliable evaluation**" in text
    assert "**Model finding**: catastrophic_overfitting: the model itself is broken" in text
    assert "the robust accuracy of 0.0 % stands" in text and "(error, model finding)" in text


def test_the_reproduce_command_holds_no_absolute_path(tiny_digits_card, tmp_path, monkeypatch):
    from robench.pipeline.submit import submit_command_line

    project = tmp_path / "project"
    project.mkdir()
    monkeypatch.chdir(project)  # the card lies outside the working directory
    command = submit_command_line(tiny_digits_card, tiny_digits_card.checkpoint_path)
    assert str(tmp_path) not in command and " ../" in command and command.endswith("tiny.toml --force")
