"""``robench export --format robustbench RESULT``: a stored evaluation as a RobustBench submission's
``model_info`` JSON (robench.leaderboard.export)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

FORMATS = ("robustbench",)


def read_result(path: Path):
    """A results JSON (``robench evaluate --out``) or a leaderboard entry: (record, the entry's card)."""
    from robench.core.record import EvaluationResult
    from robench.errors import RobenchError
    from robench.leaderboard.entries import Entry

    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RobenchError(f"cannot read {path} as a results JSON ({exc})") from None
    if not isinstance(data, dict) or "suite" not in data or "eps" not in data:
        raise RobenchError(f"{path} is not a robench results record or leaderboard entry")
    try:
        if "entry_version" in data:
            entry = Entry.from_dict(data)
            return entry.result, entry.card
        return EvaluationResult.from_dict(data), None
    except (KeyError, TypeError, ValueError) as exc:
        raise RobenchError(f"{path} is not a valid robench results record ({exc})") from None


def register(app: typer.Typer) -> None:
    @app.command("export")
    def export(
        result: Annotated[Path, typer.Argument(help="results JSON (evaluate --out) or leaderboard entry")],
        format: Annotated[str, typer.Option("--format", help="robustbench: RobustBench's model_info JSON")],
        out: Annotated[Path | None, typer.Option(help="file to write (default: standard output)")] = None,
    ) -> None:
        """Export a stored evaluation for another benchmark (RobustBench's model_info JSON)."""
        from robench.errors import RobenchError
        from robench.leaderboard.export import TO_FILL, model_info

        if format not in FORMATS:
            raise RobenchError(f"--format is one of {', '.join(FORMATS)}, not '{format}'")
        record, card = read_result(result)
        text = json.dumps(model_info(record, card), indent=2) + "\n"
        if out is None:
            typer.echo(text, nl=False)
        else:
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(text)
            typer.echo(f"model_info written to {out}", err=True)
        typer.echo(f"fill in what robench cannot know: {', '.join(TO_FILL)}", err=True)
