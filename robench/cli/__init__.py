"""The ``robench`` command: a thin layer over the Python API, one small module per subcommand.

Each module ``robench.cli.<name>`` defines ``register(app)``; none imports torch at import time (the
pipeline is imported inside each command's body), so ``--help`` and usage errors are instant. Errors a
user can cause (RobenchError, and the command line's own usage errors: an unknown option, a value of the
wrong type, a missing argument) are printed as one line, ``robench: error: ...``, on stderr with exit
code 2; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import importlib
import sys
import warnings

import typer

from robench.errors import Note, RobenchError

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
    if app.registered_commands:  # once per process: main() called again (tests) must not add them twice
        return
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"robench.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"robench.cli.{name}":
                continue
            raise
        module.register(app)


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    from robench.core.escape import terminal

    kind = "note" if issubclass(category, Note) else "warning"
    print(f"robench: {kind}: {terminal(message)}", file=sys.stderr)


def usage_error(exc: typer.TyperException) -> str:
    """A click usage error as one sentence: what was wrong, and where the command's options are listed."""
    message = " ".join(exc.format_message().split()).rstrip(".")
    if message[:1].isupper() and message[1:2].islower():
        message = message[0].lower() + message[1:]
    ctx = getattr(exc, "ctx", None)
    return f"{message} (see '{ctx.command_path} --help')" if ctx is not None else message


def main(argv: list[str] | None = None) -> int:
    _register_commands()
    warnings.showwarning = _show_warning
    try:
        code = app(args=argv, prog_name="robench", standalone_mode=False)
    except RobenchError as exc:
        from robench.core.escape import terminal

        print(f"robench: error: {terminal(exc)}", file=sys.stderr)  # one line, no escape sequence
        return exc.exit_code
    except typer.TyperException as exc:  # an unknown option, a value of the wrong type, a missing argument
        if type(exc).__name__ != "NoArgsIsHelpError":  # that one: the help is printed already
            print(f"robench: error: {usage_error(exc)}", file=sys.stderr)
        return 2
    except typer.Abort:
        print("robench: aborted", file=sys.stderr)
        return 1
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        _leave_process_group()
    return code if isinstance(code, int) else 0


def _leave_process_group() -> None:
    """Destroy a torchrun process group before exit: a gloo group left alive aborts the process at exit
    ("terminate called without an active exception") when its peers have already gone."""
    if "torch.distributed" in sys.modules:
        from robench.distributed import teardown

        teardown()


def entrypoint() -> None:
    """Console-script entry point."""
    sys.exit(main())
