"""`ocppkit csms`: run the built-in OCPP 2.0.1 CSMS (a reference peer for tests and demos)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from ocppkit.translators.errors import ConfigError


def register(app: typer.Typer) -> None:
    app.command()(csms)


def csms(
    listen: Annotated[
        str, typer.Option("--listen", help="HOST:PORT to listen on (port 0: any free port).")
    ] = "127.0.0.1:9001",
    tokens: Annotated[
        Path | None,
        typer.Option("--tokens", help="Allow-list of idTokens, one per line.", dir_okay=False),
    ] = None,
    accept_all: Annotated[
        bool, typer.Option("--accept-all", help="Accept every idToken (instead of --tokens).")
    ] = False,
    tariff: Annotated[
        Path | None,
        typer.Option(
            "--tariff",
            help="Tariff for totalCost: OCPI 2.2.1 JSON or ocppkit simple form (.json/.toml).",
            dir_okay=False,
        ),
    ] = None,
    tariff_timezone: Annotated[
        str | None,
        typer.Option("--tariff-timezone", help="IANA time zone of the tariff's local times."),
    ] = None,
    journal: Annotated[
        Path | None, typer.Option("--journal", help="Directory for the journal (JSON lines).")
    ] = None,
    heartbeat_interval: Annotated[
        int, typer.Option("--heartbeat-interval", help="Seconds, sent in BootNotification.")
    ] = 300,
    strict_one_call: Annotated[
        bool,
        typer.Option("--strict-one-call", help="Refuse a CALL sent while another is unanswered."),
    ] = False,
) -> None:
    """Run a strict OCPP 2.0.1 CSMS until SIGINT/SIGTERM; stations connect to ws://HOST:PORT/ocpp/ID."""
    from ocppkit.toolkit.csms.handlers import CsmsSettings
    from ocppkit.toolkit.csms.run import load_tokens, parse_listen, serve
    from ocppkit.toolkit.csms.server import Csms
    from ocppkit.toolkit.tariff import load_tariff

    if (tokens is None) == (not accept_all):
        raise ConfigError("give exactly one of --tokens FILE and --accept-all")
    host, port = parse_listen(listen)
    settings = CsmsSettings(
        tokens=load_tokens(tokens) if tokens is not None else None,
        tariff=load_tariff(tariff, timezone=tariff_timezone) if tariff else None,
        heartbeat_interval=heartbeat_interval,
        strict_one_call=strict_one_call,
    )

    def ready(server: Csms) -> None:
        typer.echo(f"ocppkit csms: listening on {server.url}/{{stationId}}", err=True)

    done = asyncio.run(serve(settings, host, port, journal_dir=journal, on_ready=ready))
    typer.echo(
        f"ocppkit csms: stopped; {len(done.stations)} station(s), "
        f"{len(done.transactions)} transaction(s), {done.violations} violation(s)",
        err=True,
    )
