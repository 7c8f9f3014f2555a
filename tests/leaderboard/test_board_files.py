"""md / csv / html boards regenerated from entries; the HTML checked in headless Chromium."""

from __future__ import annotations

import html.parser
import json
import shutil
import subprocess

import pandas as pd
import pytest
from PIL import Image
from synthetic_records import STANDARD

from robench.attacks.suites import content_digest
from robench.cli import main
from robench.core.record import CertificateSummary, Flag
from robench.leaderboard.entries import make_entry, write_entry
from robench.leaderboard.render import write_board

CARD = {"architecture": "small_cnn", "recipe": "pgd"}


@pytest.fixture
def board(board_root, make_result):
    co = Flag(
        "catastrophic_overfitting",
        "error",
        "FGSM far above PGD",
        {"fgsm_acc": 0.7, "pgd20_acc": 0.05},
        "model",
    )  # a model finding; noise breaking points makes the number unreliable
    noise = Flag("noise_stronger", "error", "noise broke survivors", {"attacked": 14, "broken": 3})
    specs = {
        "standard": make_result("standard", 1.0, [0.1, 0, 0, 0, 0, 0]),
        "pgd": make_result("pgd", 0.9, [0.6, 0.55, 0.5, 0.5, 0.45, 0.45]),
        "fgsm": make_result("fgsm", 0.95, [0.7] * 6, verdict="unreliable", flags=(co, noise)),
        "trades": make_result("trades", 0.85, [0.65, 0.6, 0.55, 0.55, 0.5, 0.5]),
    }
    specs["pgd"].certificates = [  # pgd's robust points 0..8 of 20: IBP proves 6 of them, CROWN-IBP 8
        CertificateSummary("ibp", "ibp", "linf", 0.3, 20, 6, [5 * i for i in range(6)], bounded=18),
        CertificateSummary("crown-ibp", "crown-ibp", "linf", 0.3, 20, 8, [5 * i for i in range(8)]),
    ]
    for name, result in specs.items():
        write_entry(make_entry(name, result, CARD | {"recipe": name}))
    return write_board("digits", "linf")


def test_csv_has_ranked_rows_and_numbers_as_numbers(board):
    frame = pd.read_csv(board.csv)
    assert list(frame["model"]) == ["trades", "pgd", "fgsm", "standard"]
    assert frame["robust_acc"].dtype == float and frame.loc[0, "robust_acc"] == 0.5
    certified = dict(zip(frame["model"], frame["certified_acc"], strict=True))
    assert certified["pgd"] == 0.4 and frame["certified_acc"].isna().sum() == 3
    assert frame.loc[1, "certified_by"] == "CROWN-IBP"
    stage_columns = [c for c in frame.columns if c.startswith("acc:")]
    assert stage_columns == [
        "acc:fgsm",
        "acc:pgd-7",
        "acc:pgd-20",
        "acc:pgd-100x2",
        "acc:cw",
        "acc:autoattack",
        "acc:diagnostics",
    ]
    fgsm = frame[frame["model"] == "fgsm"].iloc[0]
    assert (fgsm["ranking_acc"], fgsm["verdict"], fgsm["model_findings"], fgsm["flags"]) == (
        0.05,
        "unreliable",
        "catastrophic_overfitting",
        "noise_stronger",
    )
    assert frame.loc[0, "passes"] == 6 * 19 * 20 and frame.loc[0, "n"] == 20


def test_markdown_marks_unreliable_rows_and_documents_the_rule(board):
    text = board.md.read_text()
    rows = [line for line in text.splitlines() if line.startswith("| ") and line[2].isdigit()]
    assert [r.split(" | ")[1] for r in rows] == ["trades", "pgd", "fgsm ⚠", "standard"]
    assert "⚠ UNRELIABLE" in rows[2] and "5.0 (catastrophic_overfitting: pgd20_acc)" in rows[2]
    # every cell of the top row, from the synthetic record: clean, certified (none: –), worst case,
    # ranked-by, verdict, model findings, flags, six stages and the diagnostics (a reliable verdict is a
    # checked one), architecture, recipe, eps, n, suite (a
    # "standard" v1 is not the built-in: marked and linked to its description), passes (6 stages x 19 x 20),
    # seconds (6 x 0.5), date, sha256 prefix
    sha = (b"trades".hex() * 64)[:12]
    suite = f"[standard v1 · {content_digest(STANDARD)[:8]} ⚑](#suite-1)"
    assert rows[0] == (
        "| 1 | trades | 85.0 | – | 50.0 | 50.0 | reliable |  |  | 65.0 | 60.0 | 55.0 | 55.0 | 50.0 "
        f"| 50.0 | 50.0 | small_cnn | trades | 0.3 | 20 | {suite} | 2.28k | 3.0 | 2026-11-21 | {sha} |"
    )
    assert f'<a id="suite-1"></a>standard v1 · {content_digest(STANDARD)[:8]} ⚑ (not built in)' in text
    # pgd: its best certificate (CROWN-IBP, 8 of 20) beside its worst case; still ranked by the worst case
    assert rows[1].startswith("| 2 | pgd | 90.0 | 40.0 (CROWN-IBP) | 45.0 | 45.0 | reliable |")
    assert rows[3].split(" | ")[3] == "–"
    assert "| ⚠ UNRELIABLE | catastrophic_overfitting | noise_stronger |" in rows[2]
    assert "## Ranking rule" in text and "never used" in text
    assert "linf.scatter.png" in text


def test_entries_keep_the_certified_counts_not_the_indices(board):
    entry = json.loads((board.md.parent / "linf" / "entries" / "pgd.json").read_text())
    kept = [(c["method"], c["certified_count"], c["certified"], c["n"]) for c in entry["certificates"]]
    assert kept == [("ibp", 6, None, 20), ("crown-ibp", 8, None, 20)]
    trades = json.loads((board.md.parent / "linf" / "entries" / "trades.json").read_text())
    assert trades["certificates"] == [] and trades["certificates_note"] == ""


def test_scatter_is_a_valid_png(board):
    with Image.open(board.scatter) as image:
        image.verify()
        assert image.format == "PNG" and image.size[0] > 200


class _Rows(html.parser.HTMLParser):
    """Collects (tr class, [cell texts]) of the table body."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[tuple[str, list[str]]] = []
        self.headings: list[tuple[str, str]] = []  # (key, class)
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "tr" and attrs.get("class") in ("ok", "unreliable"):
            self.rows.append((attrs["class"], []))
        elif tag == "th":
            self.headings.append((attrs.get("data-key", ""), attrs.get("class") or ""))
        elif tag == "td" and self.rows:
            self._cell = []

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)

    def handle_endtag(self, tag):
        if tag == "td" and self._cell is not None:
            self.rows[-1][1].append("".join(self._cell).strip())
            self._cell = None


def _parse(text: str) -> _Rows:
    parser = _Rows()
    parser.feed(text)
    return parser


def test_html_is_self_contained(board):
    text = board.html.read_text()
    assert "<script>" in text and "<style>" in text and "data:image/png;base64," in text
    assert "http://" not in text and "https://" not in text  # nothing fetched: works offline
    rows = _parse(text).rows
    assert [cells[1] for _, cells in rows] == ["trades", "pgd", "fgsm ⚠", "standard"]


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _render(path, tmp_path, fragment: str = "") -> str:
    command = [
        _chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={tmp_path / 'chromium-profile'}", "--virtual-time-budget=5000",
        "--dump-dom", path.resolve().as_uri() + fragment,
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.mark.slow
@pytest.mark.skipif(_chromium() is None, reason="chromium is not installed (apt-get install chromium)")
def test_headless_chromium_renders_and_sorts_the_table(board, tmp_path):
    rendered = _parse(_render(board.html, tmp_path))
    assert [(cls, cells[0], cells[1]) for cls, cells in rendered.rows] == [
        ("ok", "1", "trades"), ("ok", "2", "pgd"), ("unreliable", "3", "fgsm ⚠"), ("ok", "4", "standard"),
    ]  # fmt: skip
    # the page's own script sorts by a clicked heading (clicked on load through the #sort= link)
    by_clean = _parse(_render(board.html, tmp_path, "#sort=clean_acc&dir=desc"))
    assert [cells[1] for _, cells in by_clean.rows] == ["standard", "fgsm ⚠", "pgd", "trades"]
    assert ("clean_acc", "sorted-desc") in by_clean.headings
    by_name = _parse(_render(board.html, tmp_path, "#sort=model"))
    assert [cells[1] for _, cells in by_name.rows] == ["fgsm ⚠", "pgd", "standard", "trades"]
    assert [cls for cls, _ in by_name.rows] == ["unreliable", "ok", "ok", "ok"]


def test_leaderboard_command_regenerates_from_entries(board, capsys):
    board.md.unlink()
    board.html.unlink()
    assert main(["leaderboard", "--dataset", "digits"]) == 0
    assert board.md.is_file() and board.html.is_file()
    assert "digits/linf: 4 entries" in capsys.readouterr().out


def test_leaderboard_command_without_entries_is_a_one_line_error(board_root, capsys):
    assert main(["leaderboard"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("robench: error: no leaderboard entries") and err.count("\n") == 1


MEASURE = """<script>
document.body.insertAdjacentHTML("beforeend", "<pre id='layout'>" + JSON.stringify(
  Array.prototype.map.call(document.querySelectorAll("#board tbody tr"), function (tr) {
    var right = function (key) { return tr.querySelector("td." + key).getBoundingClientRect().right; };
    var link = tr.querySelector("td.model a");
    return {verdict: right("verdict"), findings: right("model_findings"), flags: right("flags"),
            link: link ? link.getAttribute("href") : null};
  })) + "</pre>");
</script>"""


@pytest.mark.slow
@pytest.mark.skipif(_chromium() is None, reason="chromium is not installed (apt-get install chromium)")
def test_verdict_and_flags_are_in_view_at_1280_px_and_models_link_to_reports(board, tmp_path):
    reports = tmp_path / "reports" / "digits" / "linf"
    reports.mkdir(parents=True)
    for name in ("pgd", "fgsm"):  # the two entries whose reports exist get a link
        (reports / f"{name}.html").write_text(f"<html><body>{name}</body></html>")
    files = write_board("digits", "linf", reports=reports)
    text = files.html.read_text()
    measured = files.html.with_name("measured.html")  # the board plus a script reporting its layout
    measured.write_text(text.replace("</body>", MEASURE + "\n</body>"))
    size = ["--window-size=1280,900"]
    command = [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               f"--user-data-dir={tmp_path / 'chromium-profile'}", *size]  # fmt: skip
    shot = tmp_path / "board-1280.png"  # kept in pytest's tmp folder: the screenshot artifact
    done = subprocess.run([*command, f"--screenshot={shot}", files.html.resolve().as_uri()],
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0 and shot.is_file(), done.stderr[-2000:]
    with Image.open(shot) as image:
        assert image.size == (1280, 900)
    done = subprocess.run([*command, "--virtual-time-budget=5000", "--dump-dom", measured.resolve().as_uri()],
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    layout = json.loads(done.stdout.split('<pre id="layout">')[1].split("</pre>")[0].replace("&quot;", '"'))
    assert len(layout) == 4 and all(max(r["verdict"], r["findings"], r["flags"]) <= 1280 for r in layout)
    links = {r["link"] for r in layout} - {None}
    assert links == {"../../reports/digits/linf/pgd.html", "../../reports/digits/linf/fgsm.html"}
    assert all((files.html.parent / link).resolve().is_file() for link in links)
    md = files.md.read_text()
    assert "[pgd](../../reports/digits/linf/pgd.md)" in md and "| trades |" in md  # no report: no link
