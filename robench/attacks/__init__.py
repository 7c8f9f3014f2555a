"""Attacks: one small file each, registered by family name; ``build_attack(spec, threat)`` builds one.

Spec grammar: a family name, optionally followed by the counts ``SPEC_COUNTS`` names for it: ``pgd-K`` /
``pgd-KxR`` (K steps, R restarts), ``apgd-t-KxT`` (T targets), ``square-N`` (N queries); families without
counts (``fgsm``, ``autoattack``) take none. ``package.module:attr`` names a user attack (a class or factory
called as ``attr(threat, spec, **settings)``). Keyword settings override defaults, e.g.
``build_attack("pgd-20", threat, step_size=0.01, eot_samples=10)``.
"""

from __future__ import annotations

import difflib
import inspect
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from robench.core.limits import SPEC_COUNTS as SPEC_COUNTS_CAP
from robench.errors import AttackError
from robench.registry import Registry
from robench.threat import ThreatModel

if TYPE_CHECKING:  # the attack base imports torch; parsing specs and suites does not need it
    from robench.attacks.base import Attack

ATTACKS: Registry = Registry("attack", allow_user_code=True)
ATTACKS.add("fgsm", "robench.attacks.fgsm:FGSM")
ATTACKS.add("fgsm-rs", "robench.attacks.fgsm:FGSMRandomStart")
ATTACKS.add("pgd", "robench.attacks.pgd:PGD")
ATTACKS.add("cw", "robench.attacks.cw:cw_attack")
ATTACKS.add("autoattack", "robench.attacks.autoattack:AutoAttack")
ATTACKS.add("autoattack-rand", "robench.attacks.autoattack:AutoAttackRand")
ATTACKS.add("square", "robench.attacks.square:Square")
ATTACKS.add("apgd", "robench.attacks.apgd:APGD")
ATTACKS.add("apgd-t", "robench.attacks.malt:TargetedAPGD")
ATTACKS.add("fab-t", "robench.attacks.fab:TargetedFAB")
ATTACKS.add("autoattack-t", "robench.attacks.autoattack_t:AutoAttackTail")
ATTACKS.add("deepfool", "robench.attacks.deepfool:DeepFool")
ATTACKS.add("bpda-apgd", "robench.attacks.bpda:bpda_apgd")
ATTACKS.add("bpda-apgd-t", "robench.attacks.bpda:bpda_apgd_t")
ATTACKS.add("fd-apgd", "robench.attacks.finite_differences:fd_apgd")
ATTACKS.add("fd-apgd-t", "robench.attacks.finite_differences:fd_apgd_t")
ATTACKS.add("spsa-apgd", "robench.attacks.spsa:spsa_apgd")

#: which settings the numbers in a spec fill, per family ("pgd-50x10" -> steps=50, restarts=10)
SPEC_COUNTS: dict[str, tuple[str, ...]] = {
    "pgd": ("steps", "restarts"),
    "cw": ("steps", "restarts"),
    "square": ("queries",),
    "apgd": ("steps", "restarts"),
    "apgd-t": ("steps", "targets"),
    "fab-t": ("steps", "targets"),
    "deepfool": ("steps",),
    "bpda-apgd": ("steps", "restarts"),
    "bpda-apgd-t": ("steps", "targets"),
    "fd-apgd": ("steps", "restarts"),
    "fd-apgd-t": ("steps", "targets"),
    "spsa-apgd": ("steps", "restarts"),
}
EXAMPLES = ("fgsm", "fgsm-rs", "pgd-7", "pgd-20", "pgd-100", "pgd-50x10", "cw", "autoattack", "square")
_COUNTED = re.compile(r"(?P<family>[a-z][a-z0-9-]*?)-(?P<first>[0-9]+)(?:x(?P<second>[0-9]+))?")


@dataclass(frozen=True)
class AttackSpec:
    """A parsed spec: the registered family and the settings its counts fill."""

    text: str
    family: str
    settings: dict[str, Any] = field(default_factory=dict)


def parse_spec(spec: str) -> AttackSpec:
    """Parse and check an attack spec without building it (suites validate their files with this)."""
    if not isinstance(spec, str) or not spec.strip():
        raise AttackError(f"an attack spec must be a non-empty string, got {spec!r}")
    text = spec.strip()
    if ":" in text:
        return AttackSpec(text, text)
    name = text.lower()
    if name in ATTACKS:
        return AttackSpec(text, ATTACKS.canonical(name))
    match = _COUNTED.fullmatch(name)
    if match and match["family"] in ATTACKS:
        family = ATTACKS.canonical(match["family"])
        slots = SPEC_COUNTS.get(family, ())
        # past 18 digits a count is over every cap; int() of 4,300 digits or more would raise
        counts = [int(d) if len(d) <= 18 else 10**18 for d in (match["first"], match["second"]) if d]
        if len(counts) > len(slots):
            form = {0: family, 1: f"{family}-N"}.get(len(slots), f"{family}-KxR")
            raise AttackError(f"attack '{text}' is not valid: write it as '{form}'")
        if min(counts) < 1:
            raise AttackError(f"attack '{text}' is not valid: its counts must be at least 1")
        for slot, count in zip(slots, counts, strict=False):
            if count > SPEC_COUNTS_CAP[slot]:
                raise AttackError(
                    f"attack '{text[:40]}' asks for more {slot} than the cap of {SPEC_COUNTS_CAP[slot]:,} "
                    "(robench.core.limits.SPEC_COUNTS)"
                )
        return AttackSpec(text, family, dict(zip(slots, counts, strict=False)))
    raise AttackError(_unknown_message(text))


def _unknown_message(text: str) -> str:
    known = sorted(set(ATTACKS.names()) | set(EXAMPLES))
    close = difflib.get_close_matches(text.lower(), known, n=3, cutoff=0.5)
    hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    return f"unknown attack '{text}'{hint} (known: {', '.join(spec_forms())})"


def spec_forms() -> list[str]:
    """Every registered family with the counts its spec takes: ``pgd[-K[xR]]``, ``square[-N]``, ``fgsm``."""
    letters = {"steps": "K", "restarts": "R", "targets": "T", "queries": "N"}
    forms = []
    for family in ATTACKS.names():
        counts = [letters.get(slot, "N") for slot in SPEC_COUNTS.get(family, ())]
        forms.append(
            family + (f"[-{counts[0]}" + "".join(f"[x{c}]" for c in counts[1:]) + "]" if counts else "")
        )
    return forms


def build_attack(spec: str, threat: ThreatModel, **settings: Any) -> Attack:
    """Build the attack named by ``spec`` for ``threat``; keyword settings override its defaults."""
    parsed = parse_spec(spec)
    factory = ATTACKS.get(parsed.family)
    clash = set(parsed.settings) & set(settings)
    if clash:
        raise AttackError(
            f"attack '{parsed.text}' sets {', '.join(sorted(clash))} in its name and as a setting"
        )
    arguments = {**parsed.settings, **settings}
    try:
        inspect.signature(factory).bind(threat, parsed.text, **arguments)
    except TypeError:
        allowed = [
            p.name
            for p in list(inspect.signature(factory).parameters.values())[2:]
            if p.kind is inspect.Parameter.KEYWORD_ONLY
        ]
        unknown = sorted(set(arguments) - set(allowed))
        raise AttackError(
            f"attack '{parsed.text}' has no setting {', '.join(map(repr, unknown)) or 'of that form'}"
            f" (settings: {', '.join(allowed) or 'none'})"
        ) from None
    attack = factory(threat, parsed.text, **arguments)
    from robench.attacks.base import Attack

    if not isinstance(attack, Attack):
        raise AttackError(f"'{parsed.text}' did not build a robench Attack (got {type(attack).__name__})")
    return attack


__all__ = ["ATTACKS", "Attack", "AttackSpec", "build_attack", "parse_spec"]
