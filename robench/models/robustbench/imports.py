"""Import the ``robustbench`` package (the optional extra ``robench[robustbench]``) in a current
environment, where ``import robustbench`` alone fails twice before any model is built:

- its ``robustbench.loaders`` imports ``pkg_resources``, gone from setuptools >= 81. It calls one
  function of it, ``pkg_resources.resource_filename(package, resource)`` (the path of a file shipped in a
  package), so when the real module is missing a stand-in with that one function is used;
- its ``robustbench.eval`` imports the module ``autoattack`` (and ``autoattack.state``), while the package
  it depends on, ``pyautoattack``, installs the module ``pyautoattack``: when no ``autoattack`` module is
  installed, ``pyautoattack`` (and its ``state``) answer to that name.

Both stand-ins live in ``sys.modules`` only while robustbench is imported, so nothing else in the
process sees them. Importing robench never imports robustbench: only a ``robustbench:`` model does.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
import warnings
from contextlib import contextmanager
from functools import cache
from importlib import metadata
from pathlib import Path

from robench.errors import RobenchError

#: the robustbench release whose loader robench.models.robustbench.weights mirrors
MIRRORED_VERSION = "1.1.1"
INSTALL = "pip install 'robench[robustbench]'"


def resource_filename(module: str, resource: str) -> str:
    """``pkg_resources.resource_filename``: the path of ``resource`` beside the installed ``module`` (a
    package's folder, or the folder holding a module's file: robustbench passes ``robustbench.loaders``)."""
    return str(Path(importlib.import_module(module).__file__).parent / resource)


def _stand_ins() -> dict[str, types.ModuleType]:
    """The modules robustbench imports that this environment lacks, by name."""
    missing: dict[str, types.ModuleType] = {}
    if importlib.util.find_spec("pkg_resources") is None:
        stand_in = types.ModuleType("pkg_resources", "robench's stand-in: resource_filename only")
        stand_in.resource_filename = resource_filename
        missing["pkg_resources"] = stand_in
    if importlib.util.find_spec("autoattack") is None and importlib.util.find_spec("pyautoattack"):
        missing["autoattack"] = importlib.import_module("pyautoattack")
        missing["autoattack.state"] = importlib.import_module("pyautoattack.state")
    return missing


@contextmanager
def _standing_in(modules: dict[str, types.ModuleType]):
    """``modules`` importable under their names for the duration, then gone again."""
    added = [name for name in modules if name not in sys.modules]
    for name in added:
        sys.modules[name] = modules[name]
    try:
        yield
    finally:
        for name in added:
            sys.modules.pop(name, None)


@cache
def robustbench() -> types.SimpleNamespace:
    """robustbench's ``model_zoo.model_dicts``, ``utils`` and version, imported once (stand-ins above)."""
    if importlib.util.find_spec("robustbench") is None:
        raise RobenchError(f"robustbench: models need the robustbench package: {INSTALL}")
    with _standing_in(_stand_ins()), warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # torch.jit.interface, timm's moved modules
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", UserWarning)
        utils = importlib.import_module("robustbench.utils")
        zoo = importlib.import_module("robustbench.model_zoo")
    return types.SimpleNamespace(
        model_dicts=zoo.model_dicts, utils=utils, version=metadata.version("robustbench")
    )
