"""Suites: named, versioned lists of attack specs (data, not code), run in order as a cascade.

Built in: ``standard`` (fgsm -> pgd-7 -> pgd-20 -> pgd-100 -> cw -> autoattack, see ``STANDARD``), ``quick``
(fgsm -> pgd-20 -> cw, for CI gates) and ``fast`` (AutoAttack-grade at about a fifth of its cost, see
``FAST``). ``escalate`` maps a diagnostic flag code to attack specs: when that flag fires, those attacks
run as further cascade stages on every survivor, verified and folded like any stage. A user suite is a
TOML or YAML file with ``name``, ``version``, ``attacks`` (and optionally ``escalate``, ``extra_rounds``:
more rounds of the last attack while the round before still broke points, and ``focus``: a table with
``fraction`` and ``attacks``, stronger attacks on the survivors closest to the boundary); ``load_suite``
takes a registered name or a path. Bump a suite's version whenever its attacks or their defaults change,
so stored results say which suite produced them.

A suite's ``digest`` is the sha256 of its content (attacks with the counts their specs set, escalation
rules, extra rounds, focus) and of ``SUITE_SEMANTICS``: results are stored and reused under it, and boards
show it. A file (or a Suite object) that names a built-in suite must be that suite, content and version.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from robench.attacks import parse_spec
from robench.core.documents import read_document
from robench.core.identity import UNKNOWN_DIGEST
from robench.core.names import NAME_RULE, is_name
from robench.errors import AttackError, RobenchError
from robench.registry import Registry, check_trusted

#: The version of robench's suite semantics: what a suite's content makes robench run (the spec grammar,
#: the attacks' defaults, how the focus, escalation rules and extra rounds run). Part of every suite
#: digest: bump it whenever that meaning changes, so that no stored result is reused across the change.
SUITE_SEMANTICS = 1


@dataclass(frozen=True)
class Focus:
    """Stronger attacks on only the survivors the cascade brought closest to the decision boundary: the
    ``ceil(fraction x survivors)`` with the smallest logit margin any stage's output reached."""

    fraction: float
    attacks: tuple[str, ...]

    def __post_init__(self) -> None:
        if isinstance(self.fraction, bool) or not isinstance(self.fraction, (int, float)):
            raise AttackError("focus fraction must be a number in (0, 1], e.g. 0.1")
        if not 0 < self.fraction <= 1:
            raise AttackError(f"focus fraction must be in (0, 1], got {self.fraction}")
        if not self.attacks:
            raise AttackError("focus lists no attacks")

    def to_dict(self) -> dict:
        return {"fraction": self.fraction, "attacks": list(self.attacks)}


@dataclass(frozen=True)
class Suite:
    name: str
    version: str
    attacks: tuple[str, ...]
    #: flag code -> attack specs run on every survivor when that flag fires (empty: no escalation)
    escalate: Mapping[str, tuple[str, ...]] = field(default_factory=dict, compare=False)
    #: at most this many more rounds of the last attack on every survivor, each only while the round
    #: before it still broke points: restarts where they pay (0: none)
    extra_rounds: int = field(default=0, compare=False)
    #: stronger attacks on the survivors the cascade brought closest to the boundary, run right after it
    #: (robench.pipeline.focus; None: no focus)
    focus: Focus | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if not self.attacks:
            raise AttackError(f"suite '{self.name}' lists no attacks")
        if not isinstance(self.extra_rounds, int) or not 0 <= self.extra_rounds <= 100:
            raise AttackError(f"suite '{self.name}': extra_rounds must be an integer from 0 to 100")
        for spec in self.all_specs:
            parse_spec(spec)

    @property
    def all_specs(self) -> tuple[str, ...]:
        """Every attack spec the suite may run: its stages, its focus and its escalation rules."""
        focus = self.focus.attacks if self.focus else ()
        return (*self.attacks, *focus, *(s for specs in self.escalate.values() for s in specs))

    @property
    def digest(self) -> str:
        """sha256 of the suite's content and of ``SUITE_SEMANTICS`` (not of its name or version)."""
        return content_digest(self.attacks, self.escalate, self.extra_rounds, self.focus)

    def definition(self) -> dict:
        """The content the digest covers, as a record keeps it: attacks, and escalate, extra_rounds and
        focus when set."""
        return {k: v for k, v in self.to_dict().items() if k not in ("name", "version")}

    def to_dict(self) -> dict:
        out = {"name": self.name, "version": self.version, "attacks": list(self.attacks)}
        if self.escalate:
            out["escalate"] = {code: list(specs) for code, specs in self.escalate.items()}
        if self.extra_rounds:
            out["extra_rounds"] = self.extra_rounds
        if self.focus:
            out["focus"] = self.focus.to_dict()
        return out


#: ``fast`` v3. fgsm and pgd-20 break the easy points for a few passes each (and are the FGSM / PGD-20
#: pair the catastrophic-overfitting check compares); APGD-CE for 100 iterations (AutoAttack's first
#: attack), then two 33-iteration restarts for what one long run misses; targeted APGD on the two best
#: MALT targets for 50 iterations, then a short round over the three best. Every stage stops per point at
#: its first success. Then the focus: AutoAttack's own APGD-T (100 iterations on each of 9 targets) on
#: the tenth of the survivors the cascade brought closest to the boundary, where the hard points are
#: (v2 spent the same passes on a second round over all survivors and missed points only later targets
#: break); what it breaks is the ``incomplete_optimization`` evidence. Square only when the diagnostics'
#: probe says the gradients mislead (or noise beats the suite); more targets and restarts on every
#: survivor when the focus broke enough points for ``incomplete_optimization`` to flag.
#: Measured against AutoAttack: benchmarks/fast_vs_autoattack.py, docs/benchmarks.md.
FAST = Suite(
    "fast",
    "3",
    ("fgsm", "pgd-20", "apgd-100", "apgd-33x2", "apgd-t-50x2", "apgd-t-25x3"),
    escalate={
        "black_box_stronger": ("square-5000",),
        "noise_stronger": ("square-5000",),
        "incomplete_optimization": ("apgd-t-100x9", "apgd-100x2"),
    },
    focus=Focus(0.1, ("apgd-t-100x9",)),
)


#: ``standard`` v3: the mission's ladder, at no more than AutoAttack's cost. Every rung stops per point at
#: its first success, so a point an early rung breaks costs the later ones nothing; a point that survives
#: them all pays AutoAttack's full price in its last stage, which therefore is complete AutoAttack standard
#: (its column stays comparable to AutoAttack's). The rungs before it are the overhead, so restarts go
#: where they pay: PGD-7, PGD-20 and PGD-100 are three cross-entropy PGD runs from new random starts on
#: each survivor, and AutoAttack's APGD-CE is a fourth; PGD-100's own further restarts (v1: 5, v2: 2) cost
#: 0.03x AutoAttack per restart on a robust model, and dropping v2's second moved the robust models' numbers
#: at eps 0.2 by at most one point of 360 (benchmarks/fast_vs_autoattack.py, docs/benchmarks.md).
STANDARD = Suite("standard", "3", ("fgsm", "pgd-7", "pgd-20", "pgd-100x1", "cw", "autoattack"))

SUITES: Registry[Suite] = Registry("suite")
SUITES.add("standard", STANDARD)
SUITES.add("quick", Suite("quick", "1", ("fgsm", "pgd-20", "cw")))
SUITES.add("fast", FAST)

SUITE_FILE_SUFFIXES = (".toml", ".yaml", ".yml")
SUITE_FIELDS = ("name", "version", "attacks", "escalate", "extra_rounds", "focus")


def content_digest(
    attacks: Sequence[str],
    escalate: Mapping[str, Sequence[str]] | None = None,
    extra_rounds: int = 0,
    focus: Focus | None = None,
) -> str:
    """sha256 of a suite's content: each attack as its family and the counts its spec sets (``PGD-20``
    and ``pgd-20`` are one attack), the escalation rules by flag code, extra rounds, the focus, and
    ``SUITE_SEMANTICS``."""

    def specs(items: Sequence[str]) -> list:
        return [[p.family, sorted(p.settings.items())] for p in map(parse_spec, items)]

    focused = None if focus is None else {"fraction": float(focus.fraction), "attacks": specs(focus.attacks)}
    content = {
        "semantics": SUITE_SEMANTICS,
        "attacks": specs(attacks),
        "escalate": {code: specs(items) for code, items in sorted((escalate or {}).items())},
        "extra_rounds": int(extra_rounds),
        "focus": focused,
    }
    text = json.dumps(content, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def builtin_suite(name: object) -> Suite | None:
    """The registered suite a name stands for (case and surrounding spaces ignored), or None."""
    key = name.strip().lower() if isinstance(name, str) else None
    return SUITES.get(key) if key is not None and key in SUITES else None


def check_claim(suite: Suite, where: str) -> Suite:
    """A suite named like a built-in must be that built-in, version and content: results are labelled
    and compared by the name, so no file can stand in for ``standard`` or ``fast``."""
    builtin = builtin_suite(suite.name)
    if builtin is not None and (str(suite.version), suite.digest) != (builtin.version, builtin.digest):
        raise RobenchError(
            f"{where} is named '{suite.name}' v{suite.version} but is not robench's built-in suite "
            f"{builtin.name} v{builtin.version} (other content or version); give it a name of its own"
        )
    return suite


def load_suite(name_or_path: str | Path | Suite, *, trust_code: bool = False) -> Suite:
    """A registered suite by name, or a suite file (``.toml``/``.yaml``/``.yml``) by path. A file is
    untrusted input: an attack it names as ``package.module:attr`` runs only with ``trust_code``; a
    file or Suite object named like a built-in suite must be it (``check_claim``)."""
    if isinstance(name_or_path, Suite):
        return check_claim(name_or_path, f"suite {name_or_path.name!r}")
    text = str(name_or_path)
    path = Path(text)
    if path.suffix.lower() in SUITE_FILE_SUFFIXES or (text not in SUITES and path.is_file()):
        suite = read_suite_file(path)
        for spec in suite.all_specs:
            check_trusted(spec, f"suite file {path}", trust_code)
        return check_claim(suite, f"suite file '{path}'")
    return SUITES.get(text)


def recorded_digest(suite: Mapping, randomized: bool = False) -> str:
    """The content digest of a record's ``suite``, checked: the one its ``definition`` gives
    (UNKNOWN_DIGEST when they disagree or the record has no definition); "" for a suite that had none
    (a list of Attack objects); for a record older than digests, ``legacy_suite``'s."""
    if "digest" not in suite:
        return legacy_suite(suite, randomized)["digest"]
    digest, definition = suite.get("digest"), suite.get("definition")
    if not isinstance(digest, str) or digest in ("", UNKNOWN_DIGEST):
        return digest if digest == "" else UNKNOWN_DIGEST
    try:
        rules = {code: tuple(specs) for code, specs in (definition.get("escalate") or {}).items()}
        focus = definition.get("focus")
        focus = Focus(focus["fraction"], tuple(focus["attacks"])) if focus else None
        again = content_digest(definition["attacks"], rules, definition.get("extra_rounds", 0), focus)
    except (AttributeError, KeyError, TypeError, ValueError, RobenchError):
        return UNKNOWN_DIGEST
    return digest if again == digest else UNKNOWN_DIGEST


def legacy_suite(suite: Mapping, randomized: bool = False) -> dict:
    """A record's suite from before digests (record schema < 3) with its digest: a built-in's digest and
    definition when its name, version and attacks are that built-in's (on a ``randomized`` model, evaluated
    with EOT, AutoAttack's rand version stands for AutoAttack), else UNKNOWN_DIGEST: never reused."""
    out = dict(suite)
    builtin = builtin_suite(suite.get("name"))
    built = {"autoattack-rand": "autoattack"} if randomized else {}
    recorded = [built.get(a, a) for a in suite.get("attacks") or []]
    same = builtin is not None and (str(suite.get("version")), recorded) == (
        builtin.version,
        list(builtin.attacks),
    )
    if same:
        return out | {"digest": builtin.digest, "definition": builtin.definition()}
    return out | {"digest": UNKNOWN_DIGEST}


def read_suite_file(path: Path) -> Suite:
    """A suite file, read within the caps of robench.core.documents; each problem is one sentence."""
    data = read_document(path, "suite file")
    if not isinstance(data, dict):
        raise RobenchError(f"suite file '{path}' must hold a table with name, version and attacks")
    missing = [key for key in ("name", "version", "attacks") if key not in data]
    if missing:
        raise RobenchError(f"suite file '{path}' lacks {', '.join(missing)}")
    unknown = sorted(set(data) - set(SUITE_FIELDS))
    if unknown:
        raise RobenchError(
            f"suite file '{path}' has an unknown field '{unknown[0]}' ({', '.join(SUITE_FIELDS)})"
        )
    name, version = data["name"], data["version"]
    if not is_name(name):
        raise RobenchError(f"suite file '{path}': name must be text of {NAME_RULE}, got {name!r}")
    if isinstance(version, bool) or not isinstance(version, str | int) or not is_name(str(version)):
        raise RobenchError(f"suite file '{path}': version must be text such as \"1\", got {version!r}")
    attacks = data["attacks"]
    if not isinstance(attacks, list) or not all(isinstance(a, str) for a in attacks):
        raise RobenchError(f"suite file '{path}': attacks must be a list of attack specs such as 'pgd-20'")
    escalate = data.get("escalate", {})
    if not isinstance(escalate, dict) or not all(
        isinstance(v, list) and all(isinstance(a, str) for a in v) for v in escalate.values()
    ):
        raise RobenchError(f"suite file '{path}': escalate must map flag codes to lists of attack specs")
    rounds = data.get("extra_rounds", 0)
    if isinstance(rounds, bool) or not isinstance(rounds, int):
        raise RobenchError(f"suite file '{path}': extra_rounds must be an integer, e.g. 2")
    try:
        rules = {code: tuple(specs) for code, specs in escalate.items()}
        focus = read_focus(path, data.get("focus"))
        return Suite(name, str(version), tuple(attacks), rules, rounds, focus)
    except AttackError as exc:
        raise AttackError(f"suite file '{path}': {exc}") from None


def read_focus(path: Path, raw) -> Focus | None:
    """A suite file's ``focus`` table (``fraction``, ``attacks``), or None."""
    if raw is None:
        return None
    attacks = raw.get("attacks") if isinstance(raw, dict) else None
    if not isinstance(attacks, list) or not all(isinstance(a, str) for a in attacks) or "fraction" not in raw:
        raise RobenchError(
            f"suite file '{path}': focus must be a table with fraction (e.g. 0.1) and a list of attacks"
        )
    return Focus(raw["fraction"], tuple(attacks))
