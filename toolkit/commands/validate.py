"""`ocppkit validate`: frames and journal records against the official schemas."""

from __future__ import annotations

from typing import Annotated

import typer

from ocppkit.translators.versions import OcppVersion


def register(app: typer.Typer) -> None:
    app.command()(validate)


def validate(
    source: Annotated[
        str,
        typer.Argument(help="Journal or frame log (JSON lines, may be gzipped); '-' for stdin."),
    ] = "-",
    ocpp_version: Annotated[
        str,
        typer.Option(
            "--ocpp-version", help="Version of bare frame lines (journal records carry their own)."
        ),
    ] = "1.6",
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print the summary only.")] = False,
) -> None:
    """Validate frames against the official OCPP schemas; exit 1 if any is invalid."""
    from ocppkit.toolkit.textio import iter_lines
    from ocppkit.toolkit.validate_report import validate_lines

    report = validate_lines(iter_lines(source), frame_version=OcppVersion.parse(ocpp_version))
    for row in report.summary_lines():
        typer.echo(row)
    if not quiet:
        for f in report.findings:
            typer.echo(f"line {f.line}: {f.action} {f.kind} {f.path}: {f.message}")
        for number, reason in report.unreadable:
            typer.echo(f"line {number}: unreadable: {reason}")
    raise typer.Exit(0 if report.ok else 1)
