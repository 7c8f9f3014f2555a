"""The one registry type: lazy entries, conflicts raise, did-you-mean, user code by module path."""

from __future__ import annotations

import sys

import pytest

from robench.errors import RobenchError
from robench.registry import Registry


def test_lazy_entries_import_on_first_use():
    registry = Registry("thing")
    registry.add("dumps", "json:dumps")
    sys.modules.pop("json.tool", None)
    registry.add("tool", "json.tool:main")
    assert "json.tool" not in sys.modules
    assert registry.get("tool").__module__ == "json.tool"
    import json

    assert registry.get("dumps") is json.dumps


def test_conflicts_raise_instead_of_overwriting():
    registry = Registry("thing")
    registry.add("a", 1, aliases=("alpha",))
    with pytest.raises(ValueError, match="thing 'a' is already registered"):
        registry.add("a", 2)
    with pytest.raises(ValueError, match="thing 'alpha' is already registered"):
        registry.add("b", 3, aliases=("alpha",))
    assert registry.get("alpha") == 1 and registry.names() == ["a"]


def test_unknown_names_get_suggestions():
    registry = Registry("attack")
    registry.add("pgd", 1)
    registry.add("fgsm", 2)
    with pytest.raises(
        RobenchError, match="unknown attack 'pdg'; did you mean 'pgd'\\? \\(known: fgsm, pgd\\)"
    ):
        registry.get("pdg")


def test_user_code_only_where_allowed():
    closed, open_ = Registry("suite"), Registry("architecture", allow_user_code=True)
    import json

    assert open_.get("json:loads") is json.loads
    with pytest.raises(RobenchError, match="unknown suite 'json:loads'"):
        closed.get("json:loads")
    with pytest.raises(RobenchError, match="module 'json' has no attribute 'nope'"):
        open_.get("json:nope")
