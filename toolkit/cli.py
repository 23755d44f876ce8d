"""The `ocppkit` command line: thin shells over library functions.

Every command turns an :class:`OcppkitError` (and unreadable files) into one
readable line on stderr and exit code 2; no tracebacks for user mistakes.
"""

from __future__ import annotations

import sys
from datetime import datetime
from importlib import import_module
from pathlib import Path
from typing import Annotated, Any, get_args, get_origin

import typer

from ocppkit.toolkit import __version__
from ocppkit.translators.errors import OcppkitError

app = typer.Typer(
    name="ocppkit",
    help="Bridge OCPP chargers and CSMSs of different versions, and analyse what they do.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"ocppkit {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version_callback, is_eager=True, help="Show the version."
        ),
    ] = False,
) -> None:
    """ocppkit: translators, a bridging gateway and log analysis for OCPP."""


# Each command lives in its own module under ocppkit.toolkit.commands and registers
# itself; add a module here to add a command.
COMMANDS = (
    "validate",
    "translate",
    "bridge",
    "simulate",
    "csms",
    "ingest",
    "convert",
    "report",
    "bench",
    "demo",
    "notebooks",
)

for _name in COMMANDS:
    import_module(f"ocppkit.toolkit.commands.{_name}").register(app)

# Help shows the metavars command-line users know (TEXT, INTEGER, PATH, [a|b], flags bare),
# not the Python annotations typer prints by default (<str>, <bool>, {logs}...).
_METAVARS = {str: "TEXT", int: "INTEGER", float: "FLOAT", Path: "PATH", datetime: "DATETIME"}


def _type_word(param: Any) -> str:
    desc = param.type_descriptor
    if desc.is_choice:
        return "[" + "|".join(str(getattr(c, "value", c)) for c in desc.choices or ()) + "]"
    annotation = desc.annotation
    if get_origin(annotation) is list:
        (annotation,) = get_args(annotation)
    return _METAVARS.get(annotation, "PATH" if desc.is_path else "VALUE")


def _conventional_param(param: Any) -> None:
    if param.metavar is not None or not hasattr(param, "type_descriptor"):
        return
    if param.param_type_name == "argument":
        word = _type_word(param)
        param.metavar = param.name.upper()  # usage adds "..." for several
        param.display_type_rich = lambda ctx: word
    elif getattr(param, "is_bool_flag", False):
        param.metavar = ""
    else:
        param.metavar = _type_word(param)


def _conventional(command: Any) -> Any:
    for param in command.params:
        _conventional_param(param)
    get_help_option = command.get_help_option

    def help_option(ctx: Any) -> Any:
        option = get_help_option(ctx)
        if option is not None:
            _conventional_param(option)
        return option

    command.get_help_option = help_option
    for sub in getattr(command, "commands", {}).values():
        _conventional(sub)
    return command


def command() -> Any:
    """The click command behind ``ocppkit``, with conventional help metavars."""
    return _conventional(typer.main.get_command(app))


def main() -> None:
    """Console-script entry point."""
    try:
        command()(prog_name="ocppkit")
    except OcppkitError as exc:
        print(f"ocppkit: error: {exc}", file=sys.stderr)
        sys.exit(2)
    except OSError as exc:
        name = f"{exc.filename}: " if exc.filename else ""
        print(f"ocppkit: error: {name}{exc.strerror or exc}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":  # pragma: no cover
    main()


__all__ = ["app", "main"]
