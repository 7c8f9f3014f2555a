"""Escaped everywhere: Markdown cells and lines, CSV formula cells, the terminal, Rich markup, TeX."""

from __future__ import annotations

import csv
import io
import re

import pytest

from robench.core.escape import csv_cell, markdown, terminal

HOSTILE = {
    "recipe": "<script>alert(1)</script>|x\n| injected | row |",
    "source": "<img src=x onerror=alert(1)>",
    "paper": '<iframe src="javascript:alert(1)"></iframe>\n# heading',
    "architecture": '=HYPERLINK("http://evil")',
}


def _hostile_entry(entry_data, put_entry):
    entry_data["model_card"].update(HOSTILE)
    entry_data["stages"][0]["attack"] = "fgsm|<b>x</b>\n$\\frac{"
    entry_data["flags"] = [{"code": "x`<script>", "severity": "warning", "message": "m\n# h <svg onload=1>"}]
    put_entry(entry_data)


def _no_raw_html(text: str) -> None:
    for tag in ("<script", "<img", "<iframe", "<svg", "<b>"):
        assert tag not in text, tag


def test_board_markdown_csv_and_html_show_card_text_literally(entry_data, put_entry, boards, cli):
    _hostile_entry(entry_data, put_entry)
    code, _, err = cli("leaderboard")
    assert code == 0, err
    folder = boards["leaderboards"] / "digits"
    md = (folder / "linf.md").read_text()
    _no_raw_html(md)
    table = [line for line in md.splitlines() if line.startswith("|")]
    assert len(table) == 3  # heading, rule, one entry: nothing split the row
    assert len({len(re.findall(r"(?<!\\)\|", line)) for line in table}) == 1  # as many cells in each
    assert "&lt;script&gt;alert(1)&lt;/script&gt;\\|x \\| injected \\| row \\|" in md
    rows = list(csv.DictReader(io.StringIO((folder / "linf.csv").read_text())))
    assert rows[0]["architecture"] == "'" + HOSTILE["architecture"]  # a formula is quoted
    assert rows[0]["recipe"] == HOSTILE["recipe"]  # other text is kept as it is
    html = (folder / "linf.html").read_text()
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_report_markdown_and_html_show_entry_text_literally(entry_data, put_entry, boards, cli):
    _hostile_entry(entry_data, put_entry)
    code, out, err = cli("report")
    assert code == 0, err
    md = (boards["reports"] / "digits" / "linf" / "pgd.md").read_text()
    _no_raw_html(md)
    assert "\n# heading" not in md and "\n# h " not in md and "\n| injected" not in md
    assert "&lt;img src=x onerror=alert(1)&gt;" in md
    html = (boards["reports"] / "digits" / "linf" / "pgd.html").read_text()
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-cmd", "'-cmd"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("pgd", "pgd"),
        (-0.5, -0.5),
        (3, 3),
        ("", ""),
    ],
)
def test_csv_cells_that_a_spreadsheet_would_run_are_quoted(value, expected):
    assert csv_cell(value) == expected


def test_markdown_and_terminal_escaping():
    assert markdown("a|b\nc<d>&e") == "a\\|b c&lt;d&gt;&amp;e"
    assert terminal("a\x1b[31mred\x1b]8;;http://x\x07link\x1b]8;;\x07\x07\u202e\nb") == "aredlink b"
    assert terminal("tab\there\r\nnext") == "tab here next"


def test_models_listing_strips_escape_sequences_and_shows_markup(write_card, cli):
    write_card(recipe="[/oops] [bold]x\x1b]0;pwned\x07\x1b[2J", source="\x1b[31mred")
    code, out, err = cli("models")
    assert code == 0, err
    assert "\x1b" not in out and "[/oops] [bold]x" in out


def test_an_error_message_from_a_file_is_one_clean_line(write_card, cli, check_error):
    path = write_card(bogus_field_x=1)
    path.write_text(path.read_text().replace("bogus_field_x", '"a\\u001b[2Jb\\nc"'))
    check_error(cli("evaluate", "--model", path, "-n", "4"), "unknown field 'ab c'")


def test_tex_in_a_recipe_with_a_training_log_plots_literally(entry_data, tmp_path):
    """A recipe that is a TeX error once crashed plotting after the entry was written."""
    from robench.leaderboard.entries import Entry
    from robench.reports.build import write_report

    card_dir = tmp_path / "cards"
    card_dir.mkdir()
    (card_dir / "pgd.log.csv").write_text("epoch,val_clean_acc,val_pgd_acc\n1,0.5,0.1\n2,0.6,0.2\n")
    entry_data["model_card"]["recipe"] = "$\\frac{1}{$ 50$ $x^{"
    files = write_report(Entry.from_dict(entry_data), card_dir=card_dir, root=tmp_path / "reports")
    assert set(files.figures) == {"ladder", "eps", "training"}
    assert all(p.stat().st_size > 1000 for p in files.figures.values())


@pytest.mark.parametrize(
    "log",
    [
        b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe binary",
        b"epoch,val_clean_acc\n1,abc\n",
        b"epoch,val_clean_acc\n1,inf\n",
    ],
)
def test_a_bad_training_log_is_one_line_before_anything_is_written(entry_data, tmp_path, log):
    from robench.errors import RobenchError
    from robench.leaderboard.entries import Entry
    from robench.reports.build import write_report

    card_dir = tmp_path / "cards"
    card_dir.mkdir()
    (card_dir / "pgd.log.csv").write_bytes(log)
    with pytest.raises(
        RobenchError, match="training log .* (is not a CSV file of numbers|must hold finite)"
    ) as info:
        write_report(Entry.from_dict(entry_data), card_dir=card_dir, root=tmp_path / "reports")
    assert "\n" not in str(info.value)
    assert not (tmp_path / "reports").exists()


def test_submit_with_a_binary_training_log_stops_before_work(write_card, boards, cli, check_error):
    path = write_card(training={"log": "tiny.log.csv"})
    (path.parent / "tiny.log.csv").write_bytes(b"\x00\xff\xfe\x00 not text")
    check_error(cli("submit", "--card", path, "--force"), "tiny.log.csv is not a CSV file of numbers")
    assert not boards["leaderboards"].exists() and not boards["reports"].exists()


def test_evaluate_prints_a_checkpoint_named_like_markup(tiny_digits_card, tmp_path, cli):
    import shutil

    checkpoint = tmp_path / "[red]x[bold].safetensors"  # no "/" in a file name, so no [/closing] tag
    shutil.copy(tiny_digits_card.checkpoint_path, checkpoint)
    suite = tmp_path / "one.toml"
    suite.write_text('name = "one"\nversion = "1"\nattacks = ["fgsm"]\n')
    argv = ["evaluate", "--checkpoint", checkpoint, "--arch", "small_cnn", "--arch-kwargs", '{"width": 16}']
    argv += ["--dataset", "digits", "--threat", "linf", "--eps", "0.1", "-n", "4", "--suite", suite]
    code, out, err = cli(*argv, "--no-diagnostics")
    assert code == 0, err
    assert "[red]x[bold]" in out
