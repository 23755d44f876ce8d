"""`ocppkit ingest`: OCPP logs of any shape and version -> a Parquet dataset."""

from __future__ import annotations

from typing import Annotated

import typer

from ocppkit.toolkit.commands.log_options import (
    ChargePointId,
    Format,
    Logs,
    OcppVersionOpt,
    ProgressOpt,
    Side,
    check_side,
)
from ocppkit.translators.errors import ConfigError


def register(app: typer.Typer) -> None:
    app.command()(ingest)


def ingest(
    logs: Logs,
    out: Annotated[str, typer.Option("--out", "-o", help="Dataset directory to write.")],
    fmt: Format = None,
    ocpp_version: OcppVersionOpt = None,
    charge_point_id: ChargePointId = None,
    side: Side = "csms",
    leg: Annotated[
        str | None,
        typer.Option(
            "--leg",
            help="Bridge journals: read only the 'downstream' (chargers') or 'upstream' leg.",
        ),
    ] = None,
    hash_id_tokens: Annotated[
        bool, typer.Option("--hash-id-tokens", help="Store id tokens as salted HMAC-SHA256.")
    ] = False,
    salt: Annotated[str | None, typer.Option("--salt", help="Salt for --hash-id-tokens.")] = None,
    workers: Annotated[
        int | None, typer.Option("--workers", help="Worker processes (default: CPU count).")
    ] = None,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace tables already in the dataset.")
    ] = False,
    append: Annotated[
        bool,
        typer.Option(
            "--append",
            help="Add the logs to the dataset in --out, completing what its last run left "
            "open; logs it already holds (same content) are skipped.",
        ),
    ] = False,
    progress: ProgressOpt = None,
) -> None:
    """Ingest logs into tables frames, sessions, meter_values, status_events, faults, quarantine.

    Prints a summary of counts (rows per table, quarantined lines by reason,
    anomaly flags). Lines that cannot be used are kept in the quarantine
    table with their reason; they do not make the command fail. Exit code 2
    for unusable arguments or unreadable files.
    """
    from ocppkit.toolkit.ingest import IngestOptions
    from ocppkit.toolkit.ingest import ingest as run
    from ocppkit.translators.versions import OcppVersion

    if hash_id_tokens and not salt:
        raise ConfigError("--hash-id-tokens needs --salt (a secret kept with the dataset's owner)")
    check_side(side)
    if leg not in (None, "downstream", "upstream"):
        raise ConfigError(f"--leg must be downstream or upstream, not {leg!r}")
    options = IngestOptions(
        format=fmt,
        version=OcppVersion.parse(ocpp_version).value if ocpp_version else None,
        charge_point_id=charge_point_id,
        side=side,
        leg=leg,
        salt=salt.encode() if hash_id_tokens and salt else None,
        workers=workers,
        overwrite=overwrite,
        append=append,
        progress=progress,
    )
    summary = run(logs, out, options)
    for line in summary.lines():
        typer.echo(line)
