"""`ocppkit bridge`: run the live 1.6J -> 2.0.1 bridging gateway."""

from __future__ import annotations

from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    app.command()(bridge)


def bridge(
    config: Annotated[
        str | None, typer.Option("--config", "-c", help="TOML settings file.")
    ] = None,
    listen: Annotated[
        str | None, typer.Option("--listen", help="HOST:PORT to listen on (port 0: any).")
    ] = None,
    upstream: Annotated[
        str | None,
        typer.Option("--upstream", help="CSMS base URL; each charger goes to URL/<id>."),
    ] = None,
    upstream_version: Annotated[
        str | None,
        typer.Option(
            "--upstream-version",
            help="What the CSMS speaks: 2.0.1 (default) or 1.6 (hosts 2.0.1 stations on it).",
        ),
    ] = None,
    state: Annotated[
        str | None,
        typer.Option(
            "--state",
            help="Durable state: a SQLite path (or sqlite:///PATH), or postgresql://... "
            "shared by several bridges.",
        ),
    ] = None,
    instance: Annotated[
        str | None,
        typer.Option("--instance", help="This bridge's name in the shared lease table."),
    ] = None,
    journal: Annotated[
        str | None, typer.Option("--journal", help="Directory for the frame journal.")
    ] = None,
    call_timeout: Annotated[
        float | None, typer.Option("--call-timeout", help="Seconds a peer has to answer.")
    ] = None,
    upstream_grace: Annotated[
        float | None,
        typer.Option(
            "--upstream-grace", help="Seconds chargers stay connected while the CSMS is away."
        ),
    ] = None,
    log_format: Annotated[str | None, typer.Option("--log-format", help="kv or json.")] = None,
    log_level: Annotated[str | None, typer.Option("--log-level", help="DEBUG, INFO...")] = None,
    recover: Annotated[
        bool,
        typer.Option(
            "--recover",
            help="Start on a damaged state database: keep it aside as NAME.damaged-TIME, "
            "begin a new one.",
        ),
    ] = False,
) -> None:
    """Chargers connect here as to their CSMS; the CSMS is spoken to in its own version.

    1.5 SOAP and 1.6J chargers onto a 2.0.1 CSMS, 2.0.1 stations onto a 1.6 CSMS
    (--upstream-version). Settings: file < env < flags.
    """
    import asyncio

    from ocppkit.toolkit.gateway.config import load_config
    from ocppkit.toolkit.gateway.logs import configure
    from ocppkit.toolkit.gateway.server import run_bridge

    cfg = load_config(
        config,
        {
            "listen": listen,
            "upstream": upstream,
            "upstream_version": upstream_version,
            "state": state,
            "instance": instance,
            "journal": journal,
            "call_timeout": call_timeout,
            "upstream_grace": upstream_grace,
            "log_format": log_format,
            "log_level": log_level,
        },
    )
    configure(cfg.log_format, cfg.log_level)
    asyncio.run(run_bridge(cfg, own_process=True, recover=recover))
