"""The package dependency rules (robench.layers): no import breaks them; the check notices one that does."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from robench.layers import LAYERS

ROOT = Path(__file__).resolve().parents[1] / "robench"


def owner(module: str) -> str | None:
    """The layer entry (package or module) a module belongs to; None for modules outside robench."""
    names = [name for packages, _ in LAYERS for name in packages]
    matches = [n for n in names if module == n or module.startswith(n + ".")]
    return max(matches, key=len) if matches else None


def layer_of(entry: str) -> int:
    return next(i for i, (packages, _) in enumerate(LAYERS) if entry in packages)


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> list[tuple[str, int]]:
    """(imported robench module, line) of every import in the file, at any depth (functions too)."""
    tree = ast.parse(path.read_text(), str(path))
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    package.split(".")[: len(package.split(".")) - node.level + 1] + [base]
                ).rstrip(".")
            found += [(f"{base}.{alias.name}" if base else alias.name, node.lineno) for alias in node.names]
    return [(name, line) for name, line in found if name.startswith("robench.") or name == "robench"]


def import_graph() -> list[tuple[str, str, str]]:
    """(importing module, imported module, where) for every robench-internal import."""
    edges = []
    for path in sorted(ROOT.rglob("*.py")):
        source = module_name(path)
        if source == "robench":
            continue  # the package root only maps public names to modules, lazily
        edges += [
            (source, target, f"{path.relative_to(ROOT.parent)}:{line}") for target, line in imports_of(path)
        ]
    return edges


def violations(edges: list[tuple[str, str, str]]) -> list[str]:
    """Imports that go up a layer or across packages of one layer, and modules no layer owns."""
    problems = []
    for source, target, where in edges:
        here, there = owner(source), owner(target)
        if here is None or there is None:
            problems.append(f"{where}: {source} or {target} belongs to no layer of robench.layers")
        elif here != there and layer_of(there) <= layer_of(here):
            kind = "up a layer" if layer_of(there) < layer_of(here) else "across one layer"
            problems.append(f"{where}: {source} imports {target} ({kind}: {here} -> {there})")
    return problems


def test_no_import_breaks_the_layers():
    edges = import_graph()
    assert len(edges) > 200  # the walk really saw the code base
    assert violations(edges) == []


@pytest.mark.parametrize(
    ("source", "target"),
    [
        ("robench.engine.runner", "robench.diagnostics.tools"),  # engine -> diagnostics: the old cycle
        ("robench.leaderboard.render", "robench.reports.plots"),  # leaderboard -> reports: the other one
        ("robench.data.base", "robench.models.loading"),  # two packages of one layer
        ("robench.core.record", "robench.pipeline.evaluate"),  # a primitive reaching the top
    ],
)
def test_an_injected_import_that_breaks_the_layers_is_reported(source, target):
    (problem,) = violations([*import_graph(), (source, target, "injected.py:1")])
    assert problem.startswith(f"injected.py:1: {source} imports {target}")


def test_every_module_belongs_to_a_layer():
    unowned = [module_name(p) for p in ROOT.rglob("*.py") if owner(module_name(p)) is None]
    assert unowned == ["robench"]  # only the package root, which maps names to modules lazily
