"""`ocppkit convert`: logs between shapes (any -> journal, -> Parquet frames) and versions."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from ocppkit.toolkit.commands.log_options import (
    ChargePointId,
    Format,
    Logs,
    OcppVersionOpt,
    Side,
    check_side,
)
from ocppkit.translators.errors import ConfigError


def register(app: typer.Typer) -> None:
    app.command()(convert)


def convert(
    logs: Logs,
    to: Annotated[
        str,
        typer.Option(
            "--to", help="journal (JSON lines), trace (Open OCPP Trace v1.1) or parquet (frames)."
        ),
    ] = "journal",
    out: Annotated[
        str, typer.Option("--out", "-o", help="Output file ('-' = stdout) or dataset directory.")
    ] = "-",
    fmt: Format = None,
    ocpp_version: OcppVersionOpt = None,
    to_version: Annotated[
        str | None,
        typer.Option("--to-version", help="Translate the journal into this OCPP version."),
    ] = None,
    charge_point_id: ChargePointId = None,
    side: Side = "csms",
    report: Annotated[
        str | None,
        typer.Option(
            "--report",
            metavar="FILE",
            help="With --to-version: write each message left out (not translatable) as a JSON "
            "line: the record, its log and line, and the reason.",
        ),
    ] = None,
) -> None:
    """Convert logs: to ocppkit journal lines or Open OCPP Trace v1.1 records
    (optionally translated to another OCPP version through the bridge's
    translators), or to the Parquet frames table.

    With --to-version both roles of the conversation are translated (the
    charger's messages and the CSMS's commands, requests and responses) and
    the output holds only that version's records: a message that cannot be
    translated is left out, counted by kind on stderr and listed with its
    reason in --report FILE. Lines that cannot be read are listed on stderr
    with their reason; they do not make the command fail. Exit code 1 if a
    translated frame fails its official schema (a bug), 2 for unusable
    arguments or files.
    """
    from ocppkit.toolkit.ingest.convert import to_journal, to_parquet
    from ocppkit.toolkit.ingest.pipeline import IngestOptions
    from ocppkit.translators.versions import OcppVersion

    check_side(side)
    version = OcppVersion.parse(ocpp_version).value if ocpp_version else None
    target = OcppVersion.parse(to_version).value if to_version else None
    if to == "parquet":
        if target is not None:
            raise ConfigError("--to-version works with --to journal (translate, then ingest)")
        if out == "-":
            raise ConfigError("--to parquet needs --out DIRECTORY")
        options = IngestOptions(format=fmt, version=version, charge_point_id=charge_point_id,
                                side=side, progress=False)  # fmt: skip
        for line in to_parquet(logs, out, options).lines():
            typer.echo(line, err=True)
        return
    if to not in ("journal", "trace"):
        raise ConfigError(f"--to must be journal, trace or parquet, not {to!r}")
    if report is not None and target is None:
        raise ConfigError("--report lists what a translation left out: it needs --to-version")
    from ocppkit.toolkit.translate_report import LeftOut, encode_left_out

    report_sink = open(report, "wb") if report is not None else None  # noqa: SIM115

    def write_left_out(entry: LeftOut, name: str) -> None:
        if report_sink is not None:
            report_sink.write(encode_left_out(entry, source=name))

    sink = sys.stdout.buffer if out == "-" else open(out, "wb")  # noqa: SIM115
    try:
        summary = to_journal(
            logs,
            sink.write,
            fmt=fmt,
            version=version,
            charge_point_id=charge_point_id,
            side=side,
            to_version=target,
            report=write_left_out,
            shape=to,
        )
    finally:
        if report_sink is not None:
            report_sink.close()
        if sink is not sys.stdout.buffer:
            sink.close()
        else:
            sink.flush()
    for name, number, reason in summary.quarantined:
        typer.echo(f"{name}:{number}: unreadable: {reason}", err=True)
    for line in summary.lines():
        typer.echo(line, err=True)
    raise typer.Exit(1 if summary.translation.get("invalid_output") else 0)
