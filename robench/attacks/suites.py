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
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from robench.attacks import parse_spec
from robench.core.documents import read_document
from robench.core.names import NAME_RULE, is_name
from robench.errors import AttackError, RobenchError
from robench.registry import Registry, check_trusted


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


def load_suite(name_or_path: str | Path | Suite, *, trust_code: bool = False) -> Suite:
    """A registered suite by name, or a suite file (``.toml``/``.yaml``/``.yml``) by path. A file is
    untrusted input: an attack it names as ``package.module:attr`` runs only with ``trust_code``."""
    if isinstance(name_or_path, Suite):
        return name_or_path
    text = str(name_or_path)
    path = Path(text)
    if path.suffix.lower() in SUITE_FILE_SUFFIXES or (text not in SUITES and path.is_file()):
        suite = read_suite_file(path)
        for spec in suite.all_specs:
            check_trusted(spec, f"suite file {path}", trust_code)
        return suite
    return SUITES.get(text)


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
