"""The `ocppkit` command line: thin shells over library functions.

Every command turns an :class:`OcppkitError` (and unreadable files) into one
readable line on stderr and exit code 2; no tracebacks for user mistakes.
"""

from __future__ import annotations

import sys
from importlib import import_module
from typing import Annotated

import typer

from toolkit import __version__
from translators.errors import OcppkitError

app = typer.Typer(
    name="ocppkit",
    help="Bridge legacy OCPP 1.5/1.6 chargers onto OCPP 2.0.1, and analyse what they do.",
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


# Each command lives in its own module under toolkit.commands and registers
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
)

for _name in COMMANDS:
    import_module(f"toolkit.commands.{_name}").register(app)


def main() -> None:
    """Console-script entry point."""
    try:
        app()
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
