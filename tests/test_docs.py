"""The docs stay true: generated tables match the code, every relative link and #anchor resolves, and the
README stays short and keeps the commands .ci/run reads. Each checker is shown to catch what it guards."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
MAX_README_LINES = 220
MAX_README_LINE = 200
MAIN_COMMAND = "python3 -m venv .venv && . .venv/bin/activate && pip install -e . && robench demo"
TEST_COMMAND = 'python3 -m venv .venv && . .venv/bin/activate && pip install -e ".[dev]" && pytest -n 2'


@pytest.fixture(scope="module")
def generate():
    """docs/generate.py, imported (it is a script, not a package module)."""
    spec = importlib.util.spec_from_file_location("docs_generate", ROOT / "docs" / "generate.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop(spec.name, None)


def pages() -> list[Path]:
    return [README, *sorted((ROOT / "docs").glob("*.md"))]


# --- links and anchors

FENCE = re.compile(r"^(```|~~~)")
LINK = re.compile(r"!?\[(?:[^\]\[]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


def prose_lines(text: str) -> list[tuple[int, str]]:
    """(line number, line) outside fenced code blocks and HTML comments, inline code removed."""
    out, fenced = [], False
    text = re.sub(r"<!--.*?-->", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.S)
    for number, line in enumerate(text.splitlines(), 1):
        if FENCE.match(line.strip()):
            fenced = not fenced
            continue
        if not fenced:
            out.append((number, line))
    return out


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: its text, lower-cased, punctuation dropped, spaces as hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # links keep their text
    text = re.sub(r"<[^>]+>", "", text).replace("`", "").replace("*", "")
    text = re.sub(r"[^\w\- ]", "", text.strip().lower())
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    found, seen = set(), {}
    for _, line in prose_lines(path.read_text(encoding="utf-8")):
        match = HEADING.match(line)
        if match:
            base = slug(match[2])
            count = seen.get(base, 0)
            found.add(base if count == 0 else f"{base}-{count}")
            seen[base] = count + 1
    return found


def broken_links(path: Path, root: Path = ROOT) -> list[str]:
    """'page:line: target (why)' for every relative link or #anchor on the page that does not resolve."""
    problems = []
    for number, line in prose_lines(path.read_text(encoding="utf-8")):
        for target in LINK.findall(re.sub(r"`[^`]*`", "", line)):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto:
                continue
            file_part, _, anchor = target.partition("#")
            resolved = (path.parent / file_part).resolve() if file_part else path
            where = f"{path.name}:{number}: {target}"
            if not resolved.is_relative_to(root.resolve()):
                problems.append(f"{where} (outside the repository)")
            elif not resolved.exists():
                problems.append(f"{where} (no such file)")
            elif anchor and resolved.suffix == ".md" and anchor not in anchors(resolved):
                problems.append(f"{where} (no heading with this anchor)")
    return problems


def test_every_relative_link_and_anchor_resolves():
    problems = [problem for page in pages() for problem in broken_links(page)]
    assert problems == []


def test_the_link_check_catches_a_broken_file_and_anchor(tmp_path):
    (tmp_path / "other.md").write_text("# Other page\n\n## A `code` heading: here\n")
    page = tmp_path / "page.md"
    page.write_text(
        "# Title\n\n[ok](other.md#a-code-heading-here) [ok](#title) [web](https://example.org/x)\n"
        "[gone](missing.md) [bad anchor](other.md#nope) [self](#nowhere)\n"
        "```\n[in code](missing-too.md)\n```\n`[inline](missing-three.md)` <!-- [comment](missing-4.md) -->\n"
    )
    assert broken_links(page, tmp_path) == [
        "page.md:4: missing.md (no such file)",
        "page.md:4: other.md#nope (no heading with this anchor)",
        "page.md:4: #nowhere (no heading with this anchor)",
    ]


def test_anchors_follow_github_rules():
    assert slug("Code named by a file (`--trust-code`)") == "code-named-by-a-file---trust-code"
    assert slug("L2 C&W: per-point binary search vs foolbox's full search") == (
        "l2-cw-per-point-binary-search-vs-foolboxs-full-search"
    )
    assert slug("The `standard` suite vs AutoAttack alone") == "the-standard-suite-vs-autoattack-alone"


# --- generated blocks


def test_generated_blocks_match_the_code(generate):
    differ, unused = generate.stale()
    assert [str(p.relative_to(ROOT)) for p in differ] == [], "run: python docs/generate.py"
    assert unused == [], "a generated block appears on no page"


def test_the_check_reports_a_drifted_page_and_the_rewrite_fixes_it(generate, tmp_path, capsys):
    original = (ROOT / "docs" / "diagnostics.md").read_text(encoding="utf-8")
    drifted = original.replace("| `noise_stronger` | error |", "| `noise_stronger` | warning |", 1)
    assert drifted != original
    page = tmp_path / "diagnostics.md"
    page.write_text(drifted, encoding="utf-8")
    assert generate.stale([page]) == ([page], [])
    assert generate.main(["--check", str(page)]) == 1
    assert "out of date" in capsys.readouterr().out
    assert generate.main([str(page)]) == 0
    assert page.read_text(encoding="utf-8") == original
    assert generate.main(["--check", str(page)]) == 0


def test_a_block_the_generator_does_not_know_is_an_error(generate, tmp_path):
    page = tmp_path / "page.md"
    page.write_text("<!-- generated: no-such-table -->\n<!-- /generated: no-such-table -->\n")
    with pytest.raises(generate.GenerateError, match="unknown generated block 'no-such-table'"):
        generate.stale([page])
    page.write_text("<!-- generated: suites -->\nnever closed\n")
    with pytest.raises(generate.GenerateError, match="no closing"):
        generate.stale([page])


def test_generation_is_deterministic(generate):
    for name, block in generate.BLOCKS.items():
        assert block() == block(), name


# --- the README


def command_between(text: str, marker: str) -> str:
    """The command inside ``<!-- marker -->`` … ``<!-- /marker -->``, extracted the way .ci/run does."""
    match = re.search(rf"^<!-- {marker} -->\n(.*?)^<!-- /{marker} -->$", text, flags=re.S | re.M)
    assert match, f"README.md lacks the {marker} markers"
    lines = [line for line in match[1].splitlines() if not line.startswith(("<!--", "```"))]
    return "\n".join(lines)


def test_readme_keeps_the_commands_ci_reads():
    text = README.read_text(encoding="utf-8")
    assert command_between(text, "main-command") == MAIN_COMMAND
    assert command_between(text, "test-command") == TEST_COMMAND
    assert "sed -n '/<!-- test-command -->/,/<!-- \\/test-command -->/p' README.md" in (
        ROOT / ".ci" / "run"
    ).read_text(encoding="utf-8")


def test_readme_is_short():
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= MAX_README_LINES
    assert [n for n, line in enumerate(lines, 1) if len(line) > MAX_README_LINE] == []


DOC_PATH = re.compile(r"docs/([\w.-]+\.md)")


def test_every_docs_page_named_in_code_exists():
    named = {
        (path.relative_to(ROOT), page)
        for folder in ("robench", "tests", "benchmarks")
        for path in (ROOT / folder).rglob("*.py")
        for page in DOC_PATH.findall(path.read_text())
    }
    assert len(named) >= 3  # code does point readers at the docs
    assert [(str(p), page) for p, page in sorted(named) if not (ROOT / "docs" / page).is_file()] == []
