"""The ``robench`` command: a thin layer over the Python API, one small module per subcommand.

Each module ``robench.cli.<name>`` defines ``register(app)``. Errors a user can cause (RobenchError)
are printed as one line on stderr with a non-zero exit code; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import importlib
import sys
import warnings

import typer

from robench.errors import RobenchError

COMMANDS = (
    "models",
    "evaluate",
    "certify",
    "train",
    "submit",
    "leaderboard",
    "report",
    "demo",
    "gate",
    "export",
)

app = typer.Typer(
    name="robench",
    help="Robustness evaluation for PyTorch image classifiers.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """Robustness evaluation for PyTorch image classifiers."""  # keeps subcommands even when only one exists


def _register_commands() -> None:
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"robench.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"robench.cli.{name}":
                continue
            raise
        module.register(app)


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    from robench.models.loading import LoadNote

    kind = "note" if issubclass(category, LoadNote) else "warning"
    print(f"robench: {kind}: {message}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    _register_commands()
    warnings.showwarning = _show_warning
    try:
        app(args=argv, prog_name="robench", standalone_mode=True)
    except RobenchError as exc:
        print(f"robench: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        _leave_process_group()
    return 0


def _leave_process_group() -> None:
    """Destroy a torchrun process group before exit: a gloo group left alive aborts the process at exit
    ("terminate called without an active exception") when its peers have already gone."""
    if "torch.distributed" in sys.modules:
        from robench.distributed import teardown

        teardown()


def entrypoint() -> None:
    """Console-script entry point."""
    sys.exit(main())
