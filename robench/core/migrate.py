"""Reading older records (stores and entries written before the current schema).

Schema 1 kept the contract in ``extra`` (gradient problems, rejected outputs, attack errors, costs, the
randomness probe, the diagnostics' costs, the card) and listed the diagnostics as a pseudo-stage:
``upgrade_v1`` converts it to schema 2. Schema 3 added the suite's ``digest`` and ``definition``; a
schema-2 record is read as it is, its suite without them (no reader below the attacks can know a suite's
content). ``robench.attacks.suites.legacy_suite`` gives it a built-in suite's digest when its name,
version and attacks are that suite's, else "unknown"; the results store's migration and the entry reader
apply it, and such a result is never reused.
"""

from __future__ import annotations

from typing import Any

_MOVED = ("gradient_problems", "rejected", "nonfinite_logits", "attack_errors", "clean_cost", "total_cost")
_MOVED += ("eot_samples", "batch_size", "randomness_probe", "diagnostics", "card")


def _cost(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "forward": int(row["forward"]),
        "backward": int(row["backward"]),
        "seconds": float(row["seconds"]),
    }


def upgrade_v1(data: dict[str, Any]) -> dict[str, Any]:
    """A schema-1 record as a schema-2 dict (same numbers, typed places)."""
    data = dict(data)
    extra = dict(data.get("extra") or {})
    rows = list(data.get("stages", []))
    stages = [r for r in rows if r["attack"] != "diagnostics"]
    data["stages"] = [
        {k: v for k, v in r.items() if k not in ("forward", "backward", "seconds")} | {"cost": _cost(r)}
        for r in stages
    ]
    gradients = extra.get("gradient_problems") or {}
    data["problems"] = {
        "rejected": extra.get("rejected") or [],
        "attack_errors": extra.get("attack_errors") or [],
        "nonfinite_logits": extra.get("nonfinite_logits") or [],
        "gradients": {"no_graph": gradients.get("no_graph", []), "zero_grad": gradients.get("zero_grad", [])},
    }
    if extra.get("clean_cost"):
        data["clean_cost"] = _cost(extra["clean_cost"])
    probe = extra.get("randomness_probe") or {}
    data["probe"] = {k: probe[k] for k in ("randomized", "points", "forward") if k in probe}
    data["eot_samples"] = int(extra.get("eot_samples") or 1)
    data["batch_size"] = int(extra.get("batch_size") or 0)
    diagnostics = extra.get("diagnostics")
    if diagnostics is not None:
        data["diagnostics"] = {
            "checks": [
                {"check": c["check"], "cost": _cost(c), "broken": c.get("broken", 0)}
                for c in diagnostics.get("costs", [])
            ],
            "broken": diagnostics.get("broken", {}),
            "sample_size": diagnostics.get("sample_size", 0),
        }
    card = extra.get("card")
    if card:
        data["card"] = {k: card.get(k, "") for k in ("id", "recipe", "source", "paper")}
    data["extra"] = {k: v for k, v in extra.items() if k not in _MOVED}
    data["schema_version"] = 2
    return data
