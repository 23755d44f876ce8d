"""``python -m ocppkit.toolkit.gateway [flags]``: the same as ``ocppkit bridge [flags]``."""

from __future__ import annotations

import sys

import typer

from ocppkit.toolkit.commands.bridge import register
from ocppkit.translators.errors import OcppkitError


def main() -> None:
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    register(app)
    try:
        app()
    except OcppkitError as exc:
        print(f"ocppkit: error: {exc}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
