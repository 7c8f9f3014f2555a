"""The one bounded reader of the documents users and pull requests hand robench: model cards and suite
files (TOML or YAML), leaderboard entries and gate baselines (JSON).

A document is read only when its size is within its cap (robench.core.limits); it must be UTF-8 text
nested at most ``DOCUMENT_DEPTH`` deep (checked before parsing, so a 100,000-deep list costs nothing);
YAML is read as plain data: an anchor, alias or tag (``&a``, ``*a``, ``!!python/object``) is refused,
so a small file cannot expand and names no Python type; a repeated key is refused (YAML and JSON keep
the last one silently). What it holds must be plain: text keys (YAML reads ``1:`` and ``null:`` as a
number and None), and text, numbers, booleans, lists and tables as values (no dates, bytes or sets).
Every problem is one RobenchError sentence naming the document. ``check_fields`` then checks that a
dataclass built from a document holds the types its annotations declare.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import re
import tomllib
import types
import typing
from pathlib import Path
from typing import Any

from robench.core.limits import DOCUMENT_BYTES, DOCUMENT_DEPTH
from robench.errors import RobenchError

KINDS = {".toml": "TOML", ".yaml": "YAML", ".yml": "YAML", ".json": "JSON"}
PLAIN = "text, numbers, booleans, lists and tables"
_TOKENS = {
    "TOML": re.compile(
        r'"""(?:\\.|[^\\])*?"""|\'\'\'.*?\'\'\'|"(?:\\.|[^"\\\n])*"|\'[^\'\n]*\'|#[^\n]*|[\[\]{}]', re.S
    ),
    "JSON": re.compile(r'"(?:\\.|[^"\\])*"|[\[\]{}]', re.S),
}


def read_document(path: str | Path, what: str, *, max_bytes: int = DOCUMENT_BYTES) -> Any:
    """The plain data of a TOML, YAML or JSON file (kind from its suffix), read within the caps;
    ``what`` names it in errors (e.g. "model card")."""
    path = Path(path)
    kind = KINDS.get(path.suffix.lower())
    if kind is None:
        raise RobenchError(f"{what} {path} must be a {'/'.join(sorted(KINDS))} file")
    if not path.is_file():
        raise RobenchError(f"{what} {path} does not exist")
    if path.stat().st_size > max_bytes:
        raise RobenchError(f"{what} {path} is larger than {max_bytes:,} bytes (robench.core.limits)")
    with open(path, "rb") as handle:
        raw = handle.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise RobenchError(f"{what} {path} is larger than {max_bytes:,} bytes (robench.core.limits)")
    return parse_document(raw, kind, f"{what} {path}")


def parse_document(raw: bytes | str, kind: str, where: str) -> Any:
    """``raw`` (``kind``: TOML, YAML or JSON) as plain data, within the depth cap; ``where`` names it."""
    text = _decoded(raw, where)
    if kind == "YAML":
        data = _yaml(text, where)
    else:
        deepest = _bracket_depth(text, kind)
        if deepest > DOCUMENT_DEPTH:
            raise RobenchError(f"{where} nests lists or tables more than {DOCUMENT_DEPTH} deep")
        data = _toml(text, where) if kind == "TOML" else _json(text, where)
    check_plain(data, where)
    return data


def _decoded(raw: bytes | str, where: str) -> str:
    if isinstance(raw, str):
        return raw
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RobenchError(
            f"{where} is not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start})"
        ) from None


def _bracket_depth(text: str, kind: str) -> int:
    """The deepest nesting of brackets outside strings and comments (stops counting past the cap)."""
    depth = deepest = 0
    for match in _TOKENS[kind].finditer(text):
        token = match.group()
        if token in ("[", "{"):
            depth += 1
            deepest = max(deepest, depth)
            if deepest > DOCUMENT_DEPTH:
                break
        elif token in ("]", "}"):
            depth -= 1
    return deepest


def _toml(text: str, where: str) -> Any:
    try:
        return tomllib.loads(text)
    except (tomllib.TOMLDecodeError, ValueError) as exc:
        raise RobenchError(f"{where} is not valid TOML ({_one_line(exc)})") from None


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for key, value in pairs:
        if key in data:
            raise ValueError(f"the key {key!r} appears twice")
        data[key] = value
    return data


def _json(text: str, where: str) -> Any:
    try:
        return json.loads(text, object_pairs_hook=_unique_pairs)
    except ValueError as exc:  # JSONDecodeError, a repeated key, an integer of more than 4,300 digits
        raise RobenchError(f"{where} is not valid JSON ({_one_line(exc)})") from None


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:300] or type(exc).__name__


def _yaml_error(exc: Exception, where: str) -> RobenchError:
    problem = getattr(exc, "problem", None) or getattr(exc, "context", None)
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    if problem and mark is not None:
        reason = f"{problem} at line {mark.line + 1}, column {mark.column + 1}"
    else:
        reason = _one_line(exc)
    return RobenchError(f"{where} is not valid YAML ({' '.join(reason.split())})")


def _yaml(text: str, where: str) -> Any:
    """Plain YAML: the event stream is checked first (depth, anchors, aliases, tags, keys), then built."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        _check_yaml_events(yaml.parse(text, Loader=loader), where)
        return yaml.load(text, Loader=loader)  # noqa: S506 - a safe loader, on a stream checked above
    except yaml.YAMLError as exc:
        raise _yaml_error(exc, where) from None
    except ValueError as exc:  # an integer of more than 4,300 digits
        raise RobenchError(f"{where} is not valid YAML ({_one_line(exc)})") from None


class _Collection:
    """A mapping or sequence open in the YAML event stream: for a mapping, whether the next node is a
    key, and the keys seen."""

    def __init__(self, mapping: bool) -> None:
        self.mapping, self.at_key, self.keys = mapping, mapping, set()


def _check_yaml_events(events, where: str) -> None:
    import yaml

    open_: list[_Collection] = []
    for event in events:
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise RobenchError(f"{where} uses a YAML anchor or alias; robench reads plain YAML without them")
        if getattr(event, "tag", None) is not None and not _implicit(event):
            raise RobenchError(
                f"{where} uses the YAML tag {event.tag}; robench reads plain YAML without tags"
            )
        parent = open_[-1] if open_ else None
        if isinstance(event, yaml.ScalarEvent):
            if parent is not None and parent.mapping and parent.at_key:
                if event.value in parent.keys:
                    raise RobenchError(f"{where} is not valid YAML (the key {event.value!r} appears twice)")
                parent.keys.add(event.value)
            _node_done(parent)
        elif isinstance(event, yaml.CollectionStartEvent):
            if parent is not None and parent.mapping and parent.at_key:
                raise RobenchError(f"{where} has a list or table as a key; keys must be text")
            open_.append(_Collection(isinstance(event, yaml.MappingStartEvent)))
            if len(open_) > DOCUMENT_DEPTH:
                raise RobenchError(f"{where} nests lists or tables more than {DOCUMENT_DEPTH} deep")
        elif isinstance(event, yaml.CollectionEndEvent):
            open_.pop()
            _node_done(open_[-1] if open_ else None)


def _implicit(event) -> bool:
    """An untagged node (the parser fills in the tag of a plain scalar or collection itself)."""
    implicit = getattr(event, "implicit", False)
    return any(implicit) if isinstance(implicit, tuple) else bool(implicit)


def _node_done(parent: _Collection | None) -> None:
    if parent is not None and parent.mapping:
        parent.at_key = not parent.at_key


def check_plain(data: Any, where: str) -> None:
    """Text keys and plain values (module docstring) at most ``DOCUMENT_DEPTH`` deep, else one
    RobenchError naming the first offending key."""
    stack: list[tuple[Any, str, int]] = [(data, "", 0)]
    while stack:
        value, at, depth = stack.pop()
        if depth > DOCUMENT_DEPTH:
            raise RobenchError(f"{where} nests lists or tables more than {DOCUMENT_DEPTH} deep")
        if isinstance(value, dict):
            for key, item in value.items():
                if not isinstance(key, str):
                    shown = json.dumps(key, default=repr)
                    raise RobenchError(
                        f"{where}: the key {shown}{_at(at)} is not text (YAML reads 1: as a number, null: as "
                        "nothing; quote it)"
                    )
                stack.append((item, f"{at}.{key}" if at else key, depth + 1))
        elif isinstance(value, list):
            stack += [(item, f"{at}[{i}]", depth + 1) for i, item in enumerate(value)]
        elif value is not None and not isinstance(value, str | int | float | bool):
            raise RobenchError(
                f"{where}: '{at}' holds a {type(value).__name__}; robench reads {PLAIN} only (quote it)"
            )


def _at(at: str) -> str:
    return f" under '{at}'" if at else ""


# ---------------------------------------------------------------------------------------------------------
# Typed fields of a dataclass built from a document


def check_fields(obj: Any, where: str) -> None:
    """Every field of the dataclass ``obj`` (nested dataclasses, lists and dicts included) holds the type
    its annotation declares; else one RobenchError naming the field, e.g. ``'eps' must be a number``."""
    stack: list[tuple[Any, Any, str]] = [(obj, type(obj), "")]
    while stack:
        value, hint, at = stack.pop()
        problem = type_problem(value, hint)
        if problem is not None:
            raise RobenchError(f"{where}: '{at or 'the document'}' must be {problem}, got {_shown(value)}")
        stack += _children(value, hint, at)


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


_WORDS = {str: "text", int: "an integer", float: "a number", bool: "true or false", type(None): "null"}


def type_problem(value: Any, hint: Any) -> str | None:
    """What ``value`` should be when it does not fit ``hint`` (None: it fits)."""
    if hint is Any:
        return None
    options = _union(hint)
    if options is not None:
        misses = [type_problem(value, option) for option in options]
        return None if None in misses else " or ".join(misses)
    origin = typing.get_origin(hint) or hint
    if origin in (list, tuple):
        return None if isinstance(value, list | tuple) else "a list"
    if origin is dict:
        return None if isinstance(value, dict) else "a table"
    if dataclasses.is_dataclass(origin):
        return None if isinstance(value, origin) else f"a table of {origin.__name__} fields"
    if origin is float:
        return None if isinstance(value, int | float) and not isinstance(value, bool) else "a number"
    if origin is int:
        return None if isinstance(value, int) and not isinstance(value, bool) else "an integer"
    if origin in _WORDS:
        return None if isinstance(value, origin) else _WORDS[origin]
    return None  # a type this checker does not know: the constructor's business


def _union(hint: Any) -> tuple | None:
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return typing.get_args(hint)
    return None


def _children(value: Any, hint: Any, at: str) -> list[tuple[Any, Any, str]]:
    options = _union(hint)
    if options is not None:
        hint = next((o for o in options if o is not type(None) and type_problem(value, o) is None), Any)
    origin, args = typing.get_origin(hint) or hint, typing.get_args(hint)
    if origin in (list, tuple) and args:
        return [(item, args[0], f"{at}[{i}]") for i, item in enumerate(value)]
    if origin is dict and len(args) == 2:
        return [(item, args[1], f"{at}.{key}" if at else str(key)) for key, item in value.items()]
    if dataclasses.is_dataclass(origin) and isinstance(value, origin):
        hints = _hints(origin)
        return [(getattr(value, f.name), hints[f.name], _field_at(at, f)) for f in dataclasses.fields(origin)]
    return []


def _field_at(at: str, f: dataclasses.Field) -> str:
    """Where a field sits in the document: under its parent's path, or in the parent's place itself for
    a field whose metadata says ``embedded`` (a record's key: the document keeps its fields flat)."""
    if f.metadata.get("embedded"):
        return at
    return f"{at}.{f.name}" if at else f.name


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)
