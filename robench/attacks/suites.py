"""Suites: named, versioned lists of attack specs (data, not code), run in order as a cascade.

Built in: ``standard`` (fgsm -> pgd-7 -> pgd-20 -> pgd-100x5 -> cw -> autoattack) and ``quick``
(fgsm -> pgd-20 -> cw, for CI gates). A user suite is a TOML or YAML file with ``name``, ``version`` and
``attacks``; ``load_suite`` takes a registered name or a path. Bump a suite's version whenever its
attacks or their defaults change, so stored results say which suite produced them.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from robench.attacks import parse_spec
from robench.errors import AttackError, RobenchError
from robench.registry import Registry


@dataclass(frozen=True)
class Suite:
    name: str
    version: str
    attacks: tuple[str, ...]

    def __post_init__(self) -> None:
        if not self.attacks:
            raise AttackError(f"suite '{self.name}' lists no attacks")
        for spec in self.attacks:
            parse_spec(spec)

    def to_dict(self) -> dict:
        return {"name": self.name, "version": self.version, "attacks": list(self.attacks)}


SUITES: Registry[Suite] = Registry("suite")
SUITES.add("standard", Suite("standard", "1", ("fgsm", "pgd-7", "pgd-20", "pgd-100x5", "cw", "autoattack")))
SUITES.add("quick", Suite("quick", "1", ("fgsm", "pgd-20", "cw")))

SUITE_FILE_SUFFIXES = (".toml", ".yaml", ".yml")


def load_suite(name_or_path: str | Path | Suite) -> Suite:
    """A registered suite by name, or a suite file (``.toml``/``.yaml``/``.yml``) by path."""
    if isinstance(name_or_path, Suite):
        return name_or_path
    text = str(name_or_path)
    path = Path(text)
    if path.suffix.lower() in SUITE_FILE_SUFFIXES or (text not in SUITES and path.is_file()):
        return read_suite_file(path)
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
    try:
        return Suite(str(data["name"]), str(data["version"]), tuple(attacks))
    except AttackError as exc:
        raise AttackError(f"suite file '{path}': {exc}") from None
