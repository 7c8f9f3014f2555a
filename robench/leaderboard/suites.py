"""Which suite produced a result, as boards, reports and the gate show it: name, version and a short
content digest (``robench.attacks.suites``), checked against the definition the record carries. A suite
that is not the built-in suite of its name (a user's file, or a digest that is unknown or does not match
the recorded definition) is marked ⚑ and described under the board, where its cells link."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from robench.attacks.suites import UNKNOWN_DIGEST, builtin_suite, recorded_digest
from robench.core.record import EvaluationResult

SHORT = 8  # hex digits of the digest shown in tables
MARK = "⚑"  # after a suite that is not robench's built-in suite of that name


@dataclass(frozen=True)
class SuiteShown:
    name: str
    version: str
    digest: str  # checked against the recorded definition; "unknown" or "" when not known
    builtin: bool  # the built-in suite of this name, version and content
    content: str  # the definition in words ("" when not known)

    @classmethod
    def of(cls, result: EvaluationResult) -> SuiteShown:
        suite = result.suite or {}
        digest = recorded_digest(suite, randomized=result.eot_samples > 1)
        name, version = str(suite.get("name", "?")), str(suite.get("version", "?"))
        builtin = builtin_suite(name)
        same = builtin is not None and (name, version, digest) == (
            builtin.name,
            builtin.version,
            builtin.digest,
        )
        known = digest not in ("", UNKNOWN_DIGEST)
        return cls(name, version, digest, same, describe(suite.get("definition") or {}) if known else "")

    @property
    def short(self) -> str:
        return self.digest[:SHORT] if self.digest not in ("", UNKNOWN_DIGEST) else "digest unknown"

    @property
    def label(self) -> str:
        """``standard v3 · 27395c94``; ``mine v1 · 0a1b2c3d ⚑`` for a suite that is not built in."""
        return f"{self.name} v{self.version} · {self.short}" + ("" if self.builtin else f" {MARK}")

    @property
    def status(self) -> str:
        if self.builtin:
            return "robench's built-in suite"
        if self.digest in ("", UNKNOWN_DIGEST):
            return f"{MARK} not a built-in suite: its content is not known, so its results are never reused"
        return f"{MARK} not a built-in suite"


def describe(definition: dict[str, Any]) -> str:
    """A suite definition in words: its cascade, then focus, extra rounds and escalation rules."""
    parts = [" → ".join(map(str, definition.get("attacks") or []))]
    focus = definition.get("focus")
    if focus:
        share = f"{100 * float(focus.get('fraction', 0)):g}"
        parts.append(f"focus on the closest {share} % of survivors: {' → '.join(focus.get('attacks', []))}")
    if definition.get("extra_rounds"):
        parts.append(f"up to {definition['extra_rounds']} extra rounds of the last attack")
    rules = definition.get("escalate") or {}
    parts += [f"if {code}: {' → '.join(specs)}" for code, specs in rules.items()]
    return "; ".join(parts)


def frame_columns(result: EvaluationResult) -> dict[str, Any]:
    """A board row's suite columns: ``suite`` (name@version), ``suite_digest`` (checked),
    ``suite_builtin``, ``suite_label`` and ``suite_content``."""
    shown = SuiteShown.of(result)
    return {
        "suite": f"{shown.name}@{shown.version}",
        "suite_digest": shown.digest,
        "suite_builtin": shown.builtin,
        "suite_label": shown.label,
        "suite_content": shown.content or "unknown",
    }


def board_suites(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every suite on a board, once, in row order, each with its anchor (``suite-1``, ...) for links."""
    seen: dict[tuple, dict[str, Any]] = {}
    for row in rows:
        key = (row["suite_label"], row["suite_digest"], row["suite_content"])
        if key in seen:
            continue
        seen[key] = {
            "label": row["suite_label"],
            "digest": row["suite_digest"],
            "content": row["suite_content"],
            "builtin": bool(row["suite_builtin"]),
            "anchor": f"suite-{len(seen) + 1}",
        }
    return list(seen.values())
