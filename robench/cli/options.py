"""Command-line options generated from the settings dataclasses: each flag's name, default, help and
parsing are declared once, on the field (``robench.options.option``), and every command that takes those
settings gets the same flags.

``settings_command(func, Settings, extra)`` builds a typer command whose options are the fields of the
settings dataclass ``Settings``, nested settings included (a flag that two nested settings share, such as
``--trust-code``, sets both), plus the ``extra`` parameters of the command itself; it calls
``func(Settings(...), **extra values)``.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import types
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from robench.errors import RobenchError
from robench.options import flag, keyword

_SIMPLE = (str, int, float, bool, Path)


def _cli_type(hint: Any) -> type:
    """The type typer parses for a field's annotation (Optional[X] -> X; anything exotic -> str)."""
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    if typing.get_origin(hint) in (typing.Union, types.UnionType) and len(args) == 1:
        hint = args[0]
    return hint if hint in _SIMPLE else str


@dataclasses.dataclass
class _Option:
    keyword: str
    flag: str
    help: str
    default: Any
    cli_type: type
    short: str | None
    targets: list[tuple[tuple[str, ...], Callable[[Any], Any] | None]]  # (field path, parse)

    def parameter(self) -> inspect.Parameter:
        name = f"{self.flag}/--no-{self.flag[2:]}" if self.cli_type is bool else self.flag
        decls = [name] + ([self.short] if self.short else [])
        optional = self.default is None and self.cli_type is not bool
        hint = self.cli_type | None if optional else self.cli_type
        annotation = Annotated[hint, typer.Option(*decls, help=self.help)]
        kind = inspect.Parameter.KEYWORD_ONLY
        return inspect.Parameter(self.keyword, kind, default=self.default, annotation=annotation)


def _hints(cls: type) -> dict[str, Any]:
    """The fields' type hints; a name the settings module imports only for type checkers (``if
    TYPE_CHECKING``: the command line builds its options without importing torch) stands for Any."""
    absent: dict[str, Any] = {}
    while True:
        try:
            return typing.get_type_hints(cls, localns=absent or None)
        except NameError as exc:
            if exc.name is None or exc.name in absent:
                raise
            absent[exc.name] = Any


def _nested(hint: Any) -> type | None:
    return hint if isinstance(hint, type) and dataclasses.is_dataclass(hint) else None


def collect_options(
    cls: type, exclude: tuple[str, ...] = (), path: tuple[str, ...] = (), into: dict | None = None
) -> dict[str, _Option]:
    """The command-line options of a settings dataclass's fields (recursing into nested settings), by
    keyword; fields with ``cli=False``, without help, or named in ``exclude`` are left out."""
    options: dict[str, _Option] = {} if into is None else into
    hints = _hints(cls)
    for field in dataclasses.fields(cls):
        if _nested(hints[field.name]) is not None:
            collect_options(hints[field.name], exclude, (*path, field.name), options)
            continue
        meta, name = field.metadata or {}, keyword(field)
        if meta.get("cli") is False or "help" not in meta or name in exclude:
            continue
        parse = meta.get("parse")
        if name not in options:
            default = field.default if field.default is not dataclasses.MISSING else None
            cli_type = str if parse is not None else _cli_type(hints[field.name])
            shown = default if parse is None or default is None else str(default)
            options[name] = _Option(name, flag(field), meta["help"], shown, cli_type, meta.get("short"), [])
        options[name].targets.append(((*path, field.name), parse))
    return options


def _parsed(option: _Option, value: Any, parse: Callable[[Any], Any] | None) -> Any:
    if value is None or parse is None:
        return value
    try:
        return parse(value)
    except ValueError as exc:
        raise RobenchError(f"{option.flag} {exc}, got '{value}'") from None


def build_settings(cls: type, options: dict[str, _Option], values: dict[str, Any]) -> Any:
    """The settings object (nested settings included) from the typed option values."""
    given: dict[tuple[str, ...], Any] = {}
    for name, option in options.items():
        for path, parse in option.targets:
            given[path] = _parsed(option, values[name], parse)
    return _instance(cls, (), given)


def _instance(cls: type, path: tuple[str, ...], given: dict[tuple[str, ...], Any]) -> Any:
    hints, kwargs = _hints(cls), {}
    for field in dataclasses.fields(cls):
        here = (*path, field.name)
        nested = _nested(hints[field.name])
        if nested is not None:
            kwargs[field.name] = _instance(nested, here, given)
        elif here in given and not (given[here] is None and field.default is dataclasses.MISSING):
            kwargs[field.name] = given[here]  # an option left out keeps a factory default
    return cls(**kwargs)


def settings_command(
    func: Callable[..., Any],
    settings: type,
    extra: list[inspect.Parameter] = (),
    *,
    exclude: tuple[str, ...] = (),
    defaults: dict[str, Any] | None = None,
) -> Callable[..., Any]:
    """A typer-ready command whose options are ``settings``' fields (nested ones included), then
    ``extra``; it calls ``func(settings_object, **extra values)``. ``defaults`` overrides the defaults of
    some options for this command (by keyword, e.g. the gate's suite)."""
    options = collect_options(settings, exclude)
    for name, value in (defaults or {}).items():
        options[name].default = value
    extra = list(extra)
    extra_names = {p.name for p in extra}

    @functools.wraps(func)
    def command(**values: Any) -> Any:
        built = build_settings(settings, options, values)
        return func(built, **{k: v for k, v in values.items() if k in extra_names})

    parameters = extra + [option.parameter() for option in options.values()]
    parameters.sort(key=lambda p: p.kind)  # positional arguments first
    del command.__wrapped__  # typer must see the generated signature, not func's
    command.__signature__ = inspect.Signature(parameters)
    command.__annotations__ = {p.name: p.annotation for p in parameters}
    return command


def param(name: str, annotation: Any, default: Any = inspect.Parameter.empty) -> inspect.Parameter:
    """An extra command parameter (``Annotated[type, typer.Option(...)]`` or ``typer.Argument``)."""
    kind = inspect.Parameter.KEYWORD_ONLY
    if typing.get_origin(annotation) is Annotated and isinstance(
        typing.get_args(annotation)[1], typer.models.ArgumentInfo
    ):
        kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
    return inspect.Parameter(name, kind, default=default, annotation=annotation)
