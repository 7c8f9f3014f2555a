"""Text from files is shown, never obeyed: the one escaping of each output robench writes text into.

- ``markdown``: one table cell or line of Markdown (boards, reports): ``|`` escaped, line breaks made
  spaces, ``& < >`` as entities (no HTML tag or comment survives), control characters dropped.
- ``csv_cell``: OWASP's rule against CSV injection: a text cell starting with ``= + - @``, a tab or a
  carriage return gets a leading ``'`` (numbers are written as numbers, so -0.5 stays a number).
- ``terminal``: one line for a terminal: escape sequences (CSI, OSC, ...) and other control and
  bidirectional-override characters removed, line breaks made spaces.
- ``tex``: a matplotlib label: ``$`` escaped, so no text from a file is read as mathtext.
HTML is escaped by Jinja2's autoescape; Rich markup by ``rich.markup.escape`` where Rich prints.
"""

from __future__ import annotations

import re

# ESC followed by a CSI (ESC [ ... final byte), an OSC/DCS/APC/PM/SOS string (up to BEL or ESC \), or
# any single character; then C0 and C1 controls (DEL included), and the bidirectional overrides that
# reorder what a terminal or editor shows (CVE-2021-42574)
_SEQUENCE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b[\]PX^_][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b.?|\x9b[0-?]*[ -/]*[@-~]"
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_BREAKS = re.compile(r"[\r\n\t\u2028\u2029\x85]+")
CSV_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def terminal(text: object) -> str:
    """``text`` as one line safe to print on a terminal."""
    text = _SEQUENCE.sub("", str(text))
    return _CONTROL.sub("", _BREAKS.sub(" ", text))


def markdown(text: object) -> str:
    """``text`` as one Markdown table cell or line, shown literally."""
    text = terminal(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("|", "\\|")


def csv_cell(value: object) -> object:
    """A CSV cell: text that a spreadsheet would read as a formula gets a leading quote."""
    if isinstance(value, str) and value.startswith(CSV_TRIGGERS):
        return "'" + value
    return value


def tex(text: object) -> str:
    """``text`` for a matplotlib label: every ``$`` escaped (no mathtext), shown as written."""
    return str(text).replace("$", r"\$")
