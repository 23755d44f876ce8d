"""`ocppkit bridge`: run the live bridging gateway; `ocppkit bridge dead-letters`: what it gave up.

``bridge`` is a group that runs the gateway when no subcommand follows, so
``ocppkit bridge [options]`` works as it always did.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

bridge_app = typer.Typer(
    invoke_without_command=True,
    subcommand_metavar="[COMMAND]",
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["--help"]},
)


def register(app: typer.Typer) -> None:
    app.add_typer(bridge_app, name="bridge")


@bridge_app.callback()
def bridge(
    ctx: typer.Context,
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
            help="What the CSMS speaks: 2.0.1 (default), 1.6 (hosts 2.0.1 stations on it) "
            "or 2.1 (hosts 1.5, 1.6J and 2.0.1 chargers on it).",
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
    if ctx.invoked_subcommand is not None:
        return
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


@bridge_app.command("dead-letters")
def dead_letters(
    state: Annotated[
        str,
        typer.Option(
            "--state",
            metavar="PATH|URL",
            help="The bridge's state: a path, sqlite:///PATH or postgresql://...",
        ),
    ] = "bridge.db",
    all_: Annotated[
        bool, typer.Option("--all", help="Also the dead letters acknowledged already.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
    ack: Annotated[
        bool,
        typer.Option(
            "--ack",
            help="Acknowledge the dead letters listed (/healthz stops reporting them).",
        ),
    ] = False,
) -> None:
    """Calls the bridge gave up because the CSMS dropped the link at every attempt.

    Safe beside a running bridge. A dead letter keeps /healthz degraded until
    it is acknowledged (--ack).
    """
    from ocppkit.toolkit.gateway.dead_letters import acknowledge, format_table, list_dead_letters

    rows = list_dead_letters(state, include_acknowledged=all_)
    if as_json:
        for row in rows:
            typer.echo(json.dumps(row.as_dict(), ensure_ascii=False))
    else:
        typer.echo(format_table(rows))
    if ack:
        done = acknowledge(state, [r.id for r in rows if r.acknowledged is None])
        typer.echo(f"acknowledged {done}", err=as_json)
