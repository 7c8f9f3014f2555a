"""Suites: named, versioned lists of attack specs (data, not code), run in order as a cascade.

Built in: ``standard`` (fgsm -> pgd-7 -> pgd-20 -> pgd-100 -> cw -> autoattack, see ``STANDARD``), ``quick``
(fgsm -> pgd-20 -> cw, for CI gates) and ``fast`` (AutoAttack-grade at about a fifth of its cost, see
``FAST``). ``escalate`` maps a diagnostic flag code to attack specs: when that flag fires, those attacks
run as further cascade stages on every survivor, verified and folded like any stage. A user suite is a
TOML or YAML file with ``name``, ``version``, ``attacks`` (and optionally ``escalate`` and
``extra_rounds``: more rounds of the last attack while the round before still broke points); ``load_suite``
takes a registered name or a path. Bump a suite's version whenever its attacks or their defaults change,
so stored results say which suite produced them.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from robench.attacks import parse_spec
from robench.errors import AttackError, RobenchError
from robench.registry import Registry, check_trusted


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

    def __post_init__(self) -> None:
        if not self.attacks:
            raise AttackError(f"suite '{self.name}' lists no attacks")
        if not isinstance(self.extra_rounds, int) or not 0 <= self.extra_rounds <= 100:
            raise AttackError(f"suite '{self.name}': extra_rounds must be an integer from 0 to 100")
        for spec in (*self.attacks, *(s for specs in self.escalate.values() for s in specs)):
            parse_spec(spec)

    def to_dict(self) -> dict:
        out = {"name": self.name, "version": self.version, "attacks": list(self.attacks)}
        if self.escalate:
            out["escalate"] = {code: list(specs) for code, specs in self.escalate.items()}
        if self.extra_rounds:
            out["extra_rounds"] = self.extra_rounds
        return out


#: ``fast`` v2. fgsm and pgd-20 break the easy points for a few passes each (and are the FGSM / PGD-20
#: pair the catastrophic-overfitting check compares); APGD-CE for 100 iterations (AutoAttack's first
#: attack), then two 33-iteration restarts for what one long run misses (v1's three short restarts alone
#: missed points a long run breaks on catastrophically overfitted models); targeted APGD on the two best
#: MALT targets for 75 iterations (hard points need long runs); two short rounds over the three best
#: targets (new random starts: the last round's breaks measure whether the optimisation converged).
#: Every stage stops per point at its first success. Square only when the diagnostics' probe says the
#: gradients mislead (or noise beats the suite); more targets when the last round broke enough points for
#: ``incomplete_optimization`` to flag.
#: Measured against AutoAttack: benchmarks/fast_vs_autoattack.py, docs/benchmarks.md.
FAST = Suite(
    "fast",
    "2",
    ("fgsm", "pgd-20", "apgd-100", "apgd-33x2", "apgd-t-75x2", "apgd-t-25x3", "apgd-t-25x3"),
    escalate={
        "black_box_stronger": ("square-5000",),
        "noise_stronger": ("square-5000",),
        "incomplete_optimization": ("apgd-t-100x9", "apgd-100x2"),
    },
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


def load_suite(name_or_path: str | Path | Suite, *, trust_code: bool = False) -> Suite:
    """A registered suite by name, or a suite file (``.toml``/``.yaml``/``.yml``) by path. A file is
    untrusted input: an attack it names as ``package.module:attr`` runs only with ``trust_code``."""
    if isinstance(name_or_path, Suite):
        return name_or_path
    text = str(name_or_path)
    path = Path(text)
    if path.suffix.lower() in SUITE_FILE_SUFFIXES or (text not in SUITES and path.is_file()):
        suite = read_suite_file(path)
        for spec in (*suite.attacks, *(s for specs in suite.escalate.values() for s in specs)):
            check_trusted(spec, f"suite file {path}", trust_code)
        return suite
    return SUITES.get(text)


def read_suite_file(path: Path) -> Suite:
    if not path.is_file():
        raise RobenchError(f"suite file '{path}' does not exist")
    raw = path.read_text(encoding="utf-8")
    if path.suffix.lower() == ".toml":
        try:
            data = tomllib.loads(raw)
        except tomllib.TOMLDecodeError as exc:
            raise RobenchError(f"suite file '{path}' is not valid TOML: {exc}") from None
    else:
        import yaml

        try:
            data = yaml.safe_load(raw)
        except yaml.YAMLError as exc:
            raise RobenchError(f"suite file '{path}' is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise RobenchError(f"suite file '{path}' must hold a table with name, version and attacks")
    missing = [key for key in ("name", "version", "attacks") if key not in data]
    if missing:
        raise RobenchError(f"suite file '{path}' lacks {', '.join(missing)}")
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
        return Suite(str(data["name"]), str(data["version"]), tuple(attacks), rules, rounds)
    except AttackError as exc:
        raise AttackError(f"suite file '{path}': {exc}") from None
