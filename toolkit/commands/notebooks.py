"""`ocppkit notebooks DIR`: copy the analysis notebooks and their sample data out of the package."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    app.command()(notebooks)


def notebooks(
    dest: Annotated[Path, typer.Argument(help="Folder to copy the notebooks into.")],
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite notebooks and sample data already there.")
    ] = False,
) -> None:
    """Copy the notebooks and the sample datasets they open into DEST, ready for JupyterLab."""
    from ocppkit.toolkit.package_data import copy_notebooks

    written = copy_notebooks(dest, overwrite=force)
    for path in written:
        typer.echo(str(path))
    typer.echo(f"open them with: jupyter lab {dest}")
