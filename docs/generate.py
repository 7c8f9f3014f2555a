"""Rewrite the docs' generated tables from the code that defines them.

    python docs/generate.py            rewrite every stale generated block in README.md and docs/*.md
    python docs/generate.py --check    rewrite nothing; exit 1 and name the pages whose blocks differ

A generated block sits between ``<!-- generated: NAME -->`` and ``<!-- /generated: NAME -->``; NAME is one
of ``BLOCKS`` below, each a function of the code only (no clock, no machine, sorted registries), so the
output is the same on every machine. Edit the code (a check's declaration, a settings field's help, a
suite), then run this script; never edit a block by hand. ``tests/test_docs.py`` runs the check.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import importlib
import inspect
import io
import re
import sys
import tokenize
import types
import typing
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
BEGIN = re.compile(r"<!-- generated: (?P<name>[a-z0-9-]+) -->\n")
END = "<!-- /generated: {name} -->"


class GenerateError(Exception):
    """A page whose markers are broken or name no known block."""


# ---------------------------------------------------------------------------------------------------------
# Markdown helpers


def cell(value: Any) -> str:
    """One table cell: RST ``code`` as Markdown `code`, one line, pipes escaped."""
    text = " ".join(str(value).split())
    text = re.sub(r"``([^`]+)``", r"`\1`", text)
    return text.replace("|", "\\|")


def code(value: Any) -> str:
    return f"`{value}`"


def table(headers: Iterable[str], rows: Iterable[Iterable[Any]]) -> str:
    headers = list(headers)
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


#: a sentence ends at '. ' before a capital, not after an abbreviation such as "et al." or "e.g."
SENTENCE_END = re.compile(r"(?<!\bal)(?<!e\.g)(?<!i\.e)(?<!\bcf)(?<!\bvs)\.\s+(?=[A-Z`(])")


def first_sentence(doc: str | None) -> str:
    """The first sentence of a docstring's first paragraph."""
    paragraph = " ".join((doc or "").strip().split("\n\n")[0].split())
    return SENTENCE_END.split(paragraph, maxsplit=1)[0].rstrip(".") + "." if paragraph else ""


def note(source: str) -> str:
    return f"<!-- rewritten by python docs/generate.py from {source}; edit the code, not this block -->\n"


def shown_default(value: Any) -> str:
    if value is None or value is inspect.Parameter.empty or value is dataclasses.MISSING:
        return "—"
    if isinstance(value, bool):
        return code("on" if value else "off")
    return code(value)


# ---------------------------------------------------------------------------------------------------------
# Blocks


def flags_block() -> str:
    from robench.diagnostics.catalog import all_checks

    rows = [(code(c.code), c.severity, c.finding, c.meaning, c.action) for c in all_checks()]
    return note("robench.diagnostics.catalog.all_checks()") + table(
        ("flag", "severity", "about", "what it means", "what to do"), rows
    )


def suites_block() -> str:
    from robench.attacks.suites import SUITES

    rows = []
    for name in SUITES.names():
        suite = SUITES.get(name)
        escalate = "; ".join(f"{code(flag)} → {', '.join(specs)}" for flag, specs in suite.escalate.items())
        if suite.extra_rounds:
            last = suite.attacks[-1]
            rounds = f"up to {suite.extra_rounds} more rounds of {last} while a round still breaks points"
            escalate = f"{rounds}; {escalate}" if escalate else rounds
        focus = suite.focus
        closest = (
            f"{', '.join(focus.attacks)} on the {focus.fraction:.0%} of survivors closest to the boundary"
            if focus
            else "—"
        )
        rows.append((code(suite.name), suite.version, " → ".join(suite.attacks), closest, escalate or "—"))
    header = ("suite", "version", "attacks, in cascade order", "then its focus", "after the diagnostics")
    return note("robench.attacks.suites.SUITES") + table(header, rows)


def attacks_block() -> str:
    from robench.attacks import ATTACKS, SPEC_COUNTS

    rows = []
    for family in ATTACKS.names():
        factory = ATTACKS.get(family)
        counts = SPEC_COUNTS.get(family, ())
        form = code(family + "-" + "x".join(f"<{c}>" for c in counts)) if counts else "—"
        settings = [
            f"{p.name}={p.default!r}"
            for p in inspect.signature(factory).parameters.values()
            if p.kind is inspect.Parameter.KEYWORD_ONLY
        ]
        module = inspect.getmodule(factory)
        rows.append(
            (code(family), form, ", ".join(settings) or "—", first_sentence(module.__doc__) if module else "")
        )
    return note("robench.attacks.ATTACKS, SPEC_COUNTS and each factory's signature") + table(
        ("family", "counts in the name", "settings (default)", "what it is"), rows
    )


def recipes_block() -> str:
    from robench.training.recipes import RECIPES

    rows = []
    for name in RECIPES.names():
        module = inspect.getmodule(RECIPES.get(name))
        rows.append((code(name), first_sentence(module.__doc__ if module else "")))
    return note("robench.training.recipes.RECIPES") + table(("recipe", "what it trains on"), rows)


def layers_block() -> str:
    from robench.layers import LAYERS

    rows = [
        (i, ", ".join(code(p) for p in packages), purpose) for i, (packages, purpose) in enumerate(LAYERS, 1)
    ]
    return note("robench.layers.LAYERS") + table(
        ("layer (1 = top)", "packages and modules", "what for"), rows
    )


def layouts_block() -> str:
    from robench.models.layouts import layout_table

    rows = [
        (code(r["name"]), r["codebase"], r["paper"], r["distinguishes"], r["shares_keys_with"] or "—")
        for r in layout_table()
    ]
    return note("robench.models.layouts.layout_table()") + table(
        ("architecture", "codebase", "paper", "what tells it apart", "same keys as"), rows
    )


def datasets_block() -> str:
    from robench.data import DATASET_KINDS, DATASETS, DEFAULT_EPS

    rows = []
    for name in DATASETS.names():
        eps = DEFAULT_EPS.get(name, {})
        rows.append(
            (code(name), code(eps["linf"]) if "linf" in eps else "—", code(eps["l2"]) if "l2" in eps else "—")
        )
    arguments = {"folder": "DIR", "file": "PATH"}
    for kind in DATASET_KINDS.names():
        rows.append((code(f"{kind}:{arguments.get(kind, '...')}"), "—", "—"))
    rows.append((code("package.module:function"), "—", "—"))
    return note("robench.data.DATASETS, DATASET_KINDS and DEFAULT_EPS") + table(
        ("--dataset", "default linf eps", "default l2 eps"), rows
    )


def limits_block() -> str:
    from robench.core.limits import LIMITS

    rows = [(code(limit.name), limit.value, limit.applies_to, limit.raised_by) for limit in LIMITS]
    return note("robench.core.limits.LIMITS") + table(("cap", "value", "applies to", "raised by"), rows)


def ranking_block() -> str:
    from robench.leaderboard.ranking import RANKING_RULE

    return note("robench.leaderboard.ranking.RANKING_RULE") + "".join(
        f"- {cell(rule)}\n" for rule in RANKING_RULE
    )


def commands_block() -> str:
    import typer

    from robench.cli import COMMANDS

    app = typer.Typer()  # a fresh app: registering into robench.cli.app twice would list commands twice
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"robench.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"robench.cli.{name}":
                raise
            continue  # as robench.cli does: a command whose module is not there yet
        module.register(app)
    rows = []
    for command in app.registered_commands:
        name = command.name or command.callback.__name__.replace("_", "-")
        rows.append((code(f"robench {name}"), first_sentence(inspect.getdoc(command.callback))))
    return note("the commands registered in robench.cli") + table(("command", "what it does"), rows)


# --- CLI options


def _extra_rows(extra: list[inspect.Parameter]) -> list[tuple[int, tuple[str, str, str]]]:
    """(kind, row) for the command's own parameters (``Annotated[type, typer.Option/Argument]``)."""
    rows = []
    for parameter in extra:
        hint, info = typing.get_args(parameter.annotation)[:2]
        if type(info).__name__ == "ArgumentInfo":
            flag = code(parameter.name.upper())
            default = (
                "—"
                if parameter.default in (None, inspect.Parameter.empty)
                else shown_default(parameter.default)
            )
        else:
            decls = list(info.param_decls or ())
            if isinstance(info.default, str) and info.default.startswith("-"):
                decls.insert(0, info.default)  # typer takes a first positional "--name" as the declaration
            name = decls[0] if decls else "--" + parameter.name.replace("_", "-")
            flag = code(f"{name}/--no-{name[2:]}" if hint is bool and not decls else name)
            default = (
                "required"
                if parameter.default is inspect.Parameter.empty
                else shown_default(parameter.default)
            )
        rows.append((parameter.kind, (flag, default, info.help or "")))
    return rows


def options_table(
    settings: type,
    extra: list[inspect.Parameter],
    defaults: dict[str, Any] | None = None,
    exclude: tuple[str, ...] = (),
) -> str:
    """The options of a command built by ``robench.cli.options.settings_command``, in ``--help`` order."""
    from robench.cli.options import collect_options

    options = collect_options(settings, exclude)
    rows = _extra_rows(extra)
    for name, option in options.items():
        default = (defaults or {}).get(name, option.default)
        flag = f"{option.flag}/--no-{option.flag[2:]}" if option.cli_type is bool else option.flag
        flags = code(flag) + (f", {code(option.short)}" if option.short else "")
        rows.append((inspect.Parameter.KEYWORD_ONLY, (flags, shown_default(default), option.help)))
    rows.sort(key=lambda r: r[0])  # positional arguments first, as the CLI lists them
    source = (
        f"the fields of {settings.__module__}.{settings.__qualname__} (robench.cli.options.collect_options)"
    )
    return note(source) + table(("option", "default", "meaning"), [row for _, row in rows])


def evaluate_options_block() -> str:
    from robench.cli.evaluate import EXTRA
    from robench.pipeline.request import EvaluationRequest

    return options_table(EvaluationRequest, EXTRA)


def certify_options_block() -> str:
    from robench.cli.certify import EXCLUDED, EXTRA
    from robench.pipeline.certify import CertifyRequest

    return options_table(CertifyRequest, EXTRA, exclude=EXCLUDED)


def gate_options_block() -> str:
    from robench.cli.gate import EXTRA
    from robench.pipeline.gate import GATE_SUITE, GateRequest

    return options_table(GateRequest, EXTRA, {"suite": GATE_SUITE})


def submit_options_block() -> str:
    from robench.cli.submit import EXTRA
    from robench.pipeline.submit import SubmitRequest

    return options_table(SubmitRequest, EXTRA)


def train_options_block() -> str:
    from robench.cli.train import TRAIN_EXTRA
    from robench.training.config import TrainConfig

    return options_table(TrainConfig, TRAIN_EXTRA)


# --- the results record

#: what a field means where its source line carries no comment (a key that names no field is an error)
FIELD_NOTES = {
    "EvaluationResult.model": "card id, checkpoint stem, or the name given in Python",
    "EvaluationResult.checkpoint_sha256": "sha256 of the checkpoint file (null for a module given in Python)",
    "EvaluationResult.dataset": "board name of the dataset (`digits`, `folder-…`, `file-…`, `user-…`)",
    "EvaluationResult.split": "dataset split",
    "EvaluationResult.threat": "`linf` or `l2`",
    "EvaluationResult.eps": "the exact float radius (`8/255` is stored as 0.03137254901960784)",
    "EvaluationResult.seed": "seed of the subset and of every random start",
    "EvaluationResult.subset_sha256": "sha256 of the evaluated points' canonical indices",
    "EvaluationResult.suite": "{name, version, attacks (as built), digest (sha256 of the suite's content, "
    'robench.attacks.suites; "" when it has none), definition (the content: attacks, escalate, extra_rounds, '
    "focus)}",
    "EvaluationResult.mode": '"cascade" | "independent"',
    "EvaluationResult.stages": "one row per attack of the suite, in cascade order",
    "EvaluationResult.samples": "one row per evaluated point, by canonical index (not in entries)",
    "EvaluationResult.flags": "the diagnostics' flags (docs/diagnostics.md)",
    "EvaluationResult.verdict": "derived from the flags: `unreliable` (an error flag about the evaluation), "
    "else `reliable` once the diagnostics ran, else `unchecked`; a record read back is checked against it",
    "EvaluationResult.clean_cost": "the clean pass (it also takes one input gradient per point)",
    "EvaluationResult.problems": "rejected outputs, crashed attacks, NaN logits, unusable gradients",
    "EvaluationResult.probe": "the randomness probe",
    "EvaluationResult.eot_samples": "EOT samples the suite used (> 1 for a randomised model)",
    "EvaluationResult.batch_size": "the batch size used (results do not depend on it)",
    "EvaluationResult.block_size": "points per block for per-call-random attacks and for sharding",
    "EvaluationResult.diagnostics": "each check's cost and the points it broke (null without diagnostics)",
    "EvaluationResult.card": "the model card, when there was one",
    "EvaluationResult.model_info": "the architecture built and the normalisation applied",
    "EvaluationResult.data_info": "the data spec, preprocessing and fingerprint",
    "EvaluationResult.env": "versions (robench, torch, pyautoattack, python), device and git commit",
    "EvaluationResult.created": "ISO-8601 UTC time of the record",
    "EvaluationResult.schema_version": "the record's schema version",
    "Flag.code": "the check's code (docs/diagnostics.md#flags)",
    "Flag.message": "one paragraph for a reader",
    "Flag.evidence": "the numbers behind the flag",
    "StageResult.attack": "the attack spec as run, e.g. `pgd-100x5`",
    "SampleResult.label": "true label",
    "SampleResult.clean_correct": "classified correctly without attack",
    "SampleResult.robust": "no stage (and no diagnostic attack) found a verified adversarial example",
    "Rejection.stage": "the attack whose output failed verification",
    "Rejection.index": "canonical index of the point",
    "Rejection.reason": "why it failed (outside the ball or [0, 1], non-finite, wrong shape)",
    "AttackFailure.stage": "the attack that raised",
    "AttackFailure.indices": "canonical indices of the points it was attacking",
    "AttackFailure.error": "the attack's error message",
    "NonFinite.stage": "the stage whose adversarial input gave NaN/inf logits",
    "NonFinite.index": "canonical index of the point",
    "Problems.rejected": "attack outputs that failed verification (the point stayed robust)",
    "Problems.attack_errors": "attacks that raised on points with unusable gradients",
    "Problems.nonfinite_logits": "valid adversarial inputs with NaN/inf logits (counted as broken)",
    "Problems.gradients": "points whose clean-pass input gradient is missing or exactly zero",
    "ModelInfo.arch_kwargs": "keyword arguments the architecture was built with",
    "GradientProblems.no_graph": "the forward broke the autograd graph",
    "GradientProblems.zero_grad": "the input gradient is exactly zero",
    "ProbeSummary.randomized": "repeated forwards disagreed: the suite ran with EOT",
    "ProbeSummary.points": "points probed",
    "ProbeSummary.forward": "forward passes the probe spent",
    "CheckRun.check": "the check's code",
    "CheckRun.cost": "passes and seconds the check spent",
    "DiagnosticsSummary.checks": "one row per check that ran",
    "DiagnosticsSummary.sample_size": "the bound on the points an expensive check attacks",
    "CardSummary.id": "`<dataset>/<threat>/<name>`",
    "CardSummary.recipe": "training recipe named by the card",
    "CardSummary.source": "who trained it / URL",
    "CardSummary.paper": "paper reference",
    "DataInfo.spec": "the dataset as given (paths made absolute)",
    "DataInfo.preprocessing": "what was done to the stored images (e.g. `Res256Crop224`)",
    "DataInfo.fingerprint": "sha256 of the evaluated images and labels (robench.data.ImageDataset)",
    "Counts.n": "evaluated points",
    "Counts.clean_correct": "points classified correctly",
    "Counts.robust": "points robust to every stage",
    "Cost.forward": "forward passes, in samples, counted at the model",
    "Cost.backward": "backward passes that reached the model's output, in samples",
    "Cost.seconds": "wall-clock seconds",
}


def _field_comments(cls: type) -> dict[str, str]:
    """Each field's comment in the class's source: trailing ``# ...`` on its lines, or ``#: ...`` above it."""
    source = inspect.getsource(inspect.getmodule(cls))
    comments: dict[int, str] = {}
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            above = token.string.startswith("#:")  # a ``#:`` comment documents the field below it
            text = (token.string[2:] if above else token.string.lstrip("#")).strip()
            if not text.startswith("fmt:") and not text.startswith("type:"):
                comments[token.start[0]] = (":" if above else "") + text
    node = next(
        n for n in ast.walk(ast.parse(source)) if isinstance(n, ast.ClassDef) and n.name == cls.__name__
    )
    found = {}
    for statement in node.body:
        if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
            lines = range(statement.lineno, (statement.end_lineno or statement.lineno) + 1)
            trailing = [comments[n] for n in lines if n in comments and not comments[n].startswith(":")]
            above, line = [], statement.lineno - 1
            while comments.get(line, "").startswith(":"):
                above.insert(0, comments[line][1:].strip())
                line -= 1
            text = " ".join(above) or (trailing[0] if trailing else "")
            if text:
                found[statement.target.id] = text
    return found


def _type_text(hint: Any, link: Callable[[type], str]) -> str:
    if hint is type(None):
        return "None"
    if hint is Any:
        return "Any"
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return " | ".join(_type_text(a, link) for a in args)
    if origin is not None:
        inner = ", ".join("..." if a is Ellipsis else _type_text(a, link) for a in args)
        return f"{getattr(origin, '__name__', str(origin))}[{inner}]"
    if dataclasses.is_dataclass(hint):
        return link(hint)
    return getattr(hint, "__name__", str(hint))


def _nested(hint: Any) -> list[type]:
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        return [hint]
    return [t for a in typing.get_args(hint) for t in _nested(a)]


def _json_fields(cls: type) -> list[tuple[str, Any, type | None]]:
    """(name, type hint, class whose source comments it) of each field of ``cls`` as the record's JSON holds
    it: the embedded key's fields flat where records keep them (robench.core.identity.RECORD_PLACE), the
    suite as one object, the derived verdict after the flags."""
    from robench.core.identity import RECORD_PLACE, EvaluationKey, PointsKey
    from robench.core.record import DataInfo

    hints, out = typing.get_type_hints(cls), []
    for f in dataclasses.fields(cls):
        if f.name == "key":
            key_hints = typing.get_type_hints(EvaluationKey)
            out += [
                (
                    k.name,
                    key_hints[k.name],
                    PointsKey if k.name in PointsKey.__annotations__ else EvaluationKey,
                )
                for k in dataclasses.fields(EvaluationKey)
                if k.name not in RECORD_PLACE
            ]
        elif f.name == "suite_content":
            out.append(("suite", hints[f.name], None))  # as a whole: FIELD_NOTES says it
        else:
            out.append((f.name, hints[f.name], cls))
        if f.name == "flags" and cls.__name__ == "EvaluationResult":
            out.append(("verdict", str, None))
    if cls is DataInfo:
        out.insert(2, ("fingerprint", str, cls))
    return out


def record_block() -> str:
    from robench.core.record import SCHEMA_VERSION, EvaluationResult

    order, queue = [], [EvaluationResult]
    while queue:  # the record's types, breadth first from EvaluationResult
        cls = queue.pop(0)
        if cls in order:
            continue
        order.append(cls)
        for _, hint, _ in _json_fields(cls):
            queue += [t for t in _nested(hint) if t not in order]
    used = set()
    parts = [note("the dataclasses of robench.core.record (fields, type hints, source comments)")]
    parts.append(f"Schema version {SCHEMA_VERSION}.\n")
    for cls in order:
        rows = []
        for name, hint, owner in _json_fields(cls):
            key = f"{cls.__name__}.{name}"
            text = (_field_comments(owner).get(name) if owner else "") or FIELD_NOTES.get(key, "")
            used.add(key)
            rows.append(
                (code(name), _type_text(hint, lambda t: f"[{t.__name__}](#{t.__name__.lower()})"), text)
            )
        doc = inspect.getdoc(cls) if cls.__doc__ else ""
        intro = f"{first_sentence(doc)}\n\n" if doc and not doc.startswith(cls.__name__ + "(") else ""
        parts.append(f"\n### {cls.__name__}\n\n{intro}" + table(("field", "type", "meaning"), rows))
    stale = sorted(set(FIELD_NOTES) - used)
    if stale:
        raise GenerateError(f"FIELD_NOTES names fields the record no longer has: {', '.join(stale)}")
    return "".join(parts)


BLOCKS: dict[str, Callable[[], str]] = {
    "attacks": attacks_block,
    "commands": commands_block,
    "datasets": datasets_block,
    "flags": flags_block,
    "layers": layers_block,
    "layouts": layouts_block,
    "limits": limits_block,
    "options-certify": certify_options_block,
    "options-evaluate": evaluate_options_block,
    "options-gate": gate_options_block,
    "options-submit": submit_options_block,
    "options-train": train_options_block,
    "ranking": ranking_block,
    "recipes": recipes_block,
    "record": record_block,
    "suites": suites_block,
}


# ---------------------------------------------------------------------------------------------------------
# Pages


def pages() -> list[Path]:
    return [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]


def render(text: str, where: str, cache: dict[str, str] | None = None) -> tuple[str, list[str]]:
    """The page with every generated block rewritten, and the names of the blocks it holds."""
    cache = {} if cache is None else cache
    out, names, position = [], [], 0
    for match in BEGIN.finditer(text):
        if match.start() < position:
            raise GenerateError(f"{where}: block '{match['name']}' starts inside another block")
        name = match["name"]
        if name not in BLOCKS:
            raise GenerateError(f"{where}: unknown generated block '{name}' (known: {', '.join(BLOCKS)})")
        end = text.find(END.format(name=name), match.end())
        if end < 0:
            raise GenerateError(f"{where}: block '{name}' has no closing {END.format(name=name)}")
        if name not in cache:
            cache[name] = BLOCKS[name]()
        out += [text[position : match.end()], cache[name]]
        names.append(name)
        position = end
    out.append(text[position:])
    return "".join(out), names


def stale(paths: Iterable[Path] | None = None) -> tuple[list[Path], list[str]]:
    """(pages whose generated blocks differ from the code, blocks no page holds); writes nothing."""
    cache: dict[str, str] = {}
    differ, held = [], set()
    for path in pages() if paths is None else paths:
        text = path.read_text(encoding="utf-8")
        new, names = render(text, str(path), cache)
        held.update(names)
        if new != text:
            differ.append(path)
    unused = sorted(set(BLOCKS) - held) if paths is None else []
    return differ, unused


def write(paths: Iterable[Path] | None = None) -> list[Path]:
    """Rewrite the stale pages; returns those it changed."""
    cache: dict[str, str] = {}
    changed = []
    for path in pages() if paths is None else paths:
        text = path.read_text(encoding="utf-8")
        new, _ = render(text, str(path), cache)
        if new != text:
            path.write_text(new, encoding="utf-8")
            changed.append(path)
    return changed


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when a page differs; write nothing")
    parser.add_argument(
        "pages", nargs="*", type=Path, help="pages to process (default: README.md, docs/*.md)"
    )
    args = parser.parse_args(argv)
    paths = args.pages or None
    try:
        if args.check:
            differ, unused = stale(paths)
            for path in differ:
                print(f"{_shown(path)}: generated blocks are out of date; run python docs/generate.py")
            for name in unused:
                print(f"generated block '{name}' appears on no page")
            return 1 if differ or unused else 0
        for path in write(paths):
            print(f"rewrote {_shown(path)}")
    except GenerateError as exc:
        print(f"docs/generate.py: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
