"""`ocppkit csms`: run the built-in OCPP 2.0.1 or 2.1 CSMS (a reference peer for tests, demos)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from ocppkit.translators.errors import ConfigError
from ocppkit.translators.versions import OcppVersion


def register(app: typer.Typer) -> None:
    app.command()(csms)


def csms(
    listen: Annotated[
        str, typer.Option("--listen", help="HOST:PORT to listen on (port 0: any free port).")
    ] = "127.0.0.1:9001",
    tokens: Annotated[
        Path | None,
        typer.Option(
            "--tokens",
            help="idTokens: .toml/.csv with statuses, groups, expiry; else one token a line.",
            dir_okay=False,
        ),
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
    strict_tokens: Annotated[
        bool,
        typer.Option(
            "--strict-tokens", help="Refuse ISO14443 idTokens that are not 8/14 hex (CitrineOS)."
        ),
    ] = False,
    station_passwords: Annotated[
        Path | None,
        typer.Option(
            "--station-passwords",
            help='TOML [stations] ID = "password": Basic auth per station.',
            dir_okay=False,
        ),
    ] = None,
    admin: Annotated[
        str | None,
        typer.Option("--admin", help="HOST:PORT of the admin HTTP API (needs --admin-token)."),
    ] = None,
    admin_token: Annotated[
        str | None,
        typer.Option(
            "--admin-token",
            envvar="OCPPKIT_CSMS_ADMIN_TOKEN",
            help="Bearer token of the admin API (or OCPPKIT_CSMS_ADMIN_TOKEN).",
        ),
    ] = None,
    signing_ca: Annotated[
        Path | None,
        typer.Option(
            "--signing-ca", help="PEM CA certificate that signs stations' CSRs.", dir_okay=False
        ),
    ] = None,
    signing_ca_key: Annotated[
        Path | None,
        typer.Option("--signing-ca-key", help="PEM private key of --signing-ca.", dir_okay=False),
    ] = None,
    ocpp_version: Annotated[
        str,
        typer.Option("--ocpp-version", help="What the CSMS speaks: 2.0.1 (default) or 2.1."),
    ] = "2.0.1",
    octt_trigger: Annotated[
        str | None,
        typer.Option(
            "--octt-trigger",
            help="[HOST:]PORT of the tzi-OCTT 1.6 trigger API (for the suite through a bridge).",
        ),
    ] = None,
) -> None:
    """Run a strict OCPP 2.0.1 (or 2.1) CSMS until SIGINT/SIGTERM; stations connect to ws://HOST:PORT/ocpp/ID."""
    from ocppkit.toolkit.csms.auth import load_passwords
    from ocppkit.toolkit.csms.handlers import CsmsSettings
    from ocppkit.toolkit.csms.run import load_tokens, parse_listen, serve
    from ocppkit.toolkit.csms.server import Csms
    from ocppkit.toolkit.csms.signing import load_signer
    from ocppkit.toolkit.csms.tokens import load_token_store
    from ocppkit.toolkit.tariff import load_tariff

    if (tokens is None) == (not accept_all):
        raise ConfigError("give exactly one of --tokens FILE and --accept-all")
    if admin is not None and not admin_token:
        raise ConfigError("--admin needs --admin-token (or OCPPKIT_CSMS_ADMIN_TOKEN)")
    if (signing_ca is None) != (signing_ca_key is None):
        raise ConfigError("--signing-ca and --signing-ca-key go together")
    version = OcppVersion.parse(ocpp_version)
    if version not in (OcppVersion.V201, OcppVersion.V21):
        raise ConfigError(f"--ocpp-version {ocpp_version}: the built-in CSMS speaks 2.0.1 or 2.1")
    if octt_trigger is not None and version is not OcppVersion.V201:
        raise ConfigError("--octt-trigger drives a 2.0.1 CSMS (leave --ocpp-version at 2.0.1)")
    host, port = parse_listen(listen)
    admin_at = parse_listen(admin) if admin is not None else None
    trigger_at = None
    if octt_trigger is not None:
        trigger_at = parse_listen(octt_trigger if ":" in octt_trigger else f":{octt_trigger}")
    store = None
    if tokens is not None and tokens.suffix.lower() in (".toml", ".csv"):
        store = load_token_store(tokens)
    settings = CsmsSettings(
        tokens=load_tokens(tokens) if tokens is not None and store is None else None,
        token_store=store,
        tariff=load_tariff(tariff, timezone=tariff_timezone) if tariff else None,
        heartbeat_interval=heartbeat_interval,
        strict_one_call=strict_one_call,
        strict_tokens=strict_tokens,
        # a dict: rotations and the trigger API's set-basic-auth-password change it
        signer=load_signer(signing_ca, signing_ca_key) if signing_ca and signing_ca_key else None,
        station_passwords=dict(load_passwords(station_passwords)) if station_passwords else {},
        ocpp_version=version,
    )

    def ready(server: Csms) -> None:
        typer.echo(f"ocppkit csms: listening on {server.url}/{{stationId}}", err=True)

    def admin_ready(url: str) -> None:
        typer.echo(f"ocppkit csms: admin API on {url} (GET /openapi.json)", err=True)

    def trigger_ready(url: str) -> None:
        typer.echo(f"ocppkit csms: tzi-OCTT trigger API on {url}/api/octt/1.6/", err=True)

    done = asyncio.run(
        serve(
            settings,
            host,
            port,
            journal_dir=journal,
            on_ready=ready,
            admin=(*admin_at, admin_token or "") if admin_at is not None else None,
            on_admin_ready=admin_ready,
            octt_trigger=trigger_at,
            on_trigger_ready=trigger_ready,
        )
    )
    typer.echo(
        f"ocppkit csms: stopped; {len(done.stations)} station(s), "
        f"{len(done.transactions)} transaction(s), {done.violations} violation(s)",
        err=True,
    )
