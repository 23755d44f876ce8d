"""`ocppkit simulate`: a seeded fleet of chargers against any CSMS (or the bridge)."""

from __future__ import annotations

from typing import Annotated

import typer

from ocppkit.toolkit.simulator.model import DEFAULT_START, iso


def register(app: typer.Typer) -> None:
    app.command()(simulate)


def simulate(
    csms: Annotated[
        str, typer.Option("--csms", help="CSMS base URL; charger X connects to URL/X.")
    ],
    chargers: Annotated[int, typer.Option(help="Number of charging stations.")] = 10,
    mix: Annotated[
        str,
        typer.Option(help="Share of chargers per OCPP version, e.g. 1.6=0.7,2.0.1=0.2,2.1=0.1."),
    ] = "1.6=1",
    seed: Annotated[int, typer.Option(help="Seed of the behaviour plan.")] = 0,
    duration: Annotated[str, typer.Option(help="Simulated period: 1d, 6h, 90m, 2d12h...")] = "1d",
    speed: Annotated[
        str, typer.Option(help="Simulated seconds per wall second, or 'max'.")
    ] = "2000",
    start: Annotated[str, typer.Option(help="Simulated start (ISO 8601, UTC if no zone).")] = iso(
        DEFAULT_START
    ),
    meter_interval: Annotated[
        str, typer.Option("--meter-interval", help="MeterValues interval in a transaction.")
    ] = "60s",
    prefix: Annotated[str, typer.Option(help="Charger id prefix.")] = "SIM",
    soap_url: Annotated[
        str | None,
        typer.Option(
            "--soap-url", help="Where 1.5 SOAP chargers POST (default: CSMS URL + /soap15, http)."
        ),
    ] = None,
    truth: Annotated[
        str | None, typer.Option(help="Write the ground truth (JSON) of what was done here.")
    ] = None,
    plan_out: Annotated[
        str | None, typer.Option("--plan", help="Write the behaviour plan (JSON) here.")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Simulate a fleet of OCPP 1.5 SOAP / 1.6J / 2.0.1 chargers against a CSMS, reproducibly.

    Charger X connects to CSMS_URL/X over WebSocket (1.6J, 2.0.1) or POSTs SOAP to the
    --soap-url (1.5). The plan (sessions, faults, reboots, drops) depends only on the seed,
    the start and the fleet settings; --truth records what was actually done.
    """
    import asyncio
    import random
    from pathlib import Path

    import orjson
    from tqdm import tqdm

    from ocppkit.toolkit.simulator.behaviour import plan_fleet
    from ocppkit.toolkit.simulator.fleet import run_fleet
    from ocppkit.toolkit.simulator.model import FleetConfig
    from ocppkit.toolkit.simulator.options import (
        parse_duration,
        parse_mix,
        parse_speed,
        parse_start,
    )

    config = FleetConfig(
        chargers=chargers,
        mix=parse_mix(mix),
        seed=seed,
        start=parse_start(start),
        duration=parse_duration(duration),
        meter_interval_s=max(1, round(parse_duration(meter_interval).total_seconds())),
        id_prefix=prefix,
    )
    plan = plan_fleet(config, random.Random(config.seed))
    if plan_out:
        Path(plan_out).write_bytes(orjson.dumps(plan.to_dict(), option=orjson.OPT_INDENT_2))
    hours = config.duration.total_seconds() / 3600
    bar = tqdm(
        total=round(hours, 2),
        disable=quiet,
        unit="h",
        desc="simulated",
        leave=False,
        bar_format="{desc}: {percentage:3.0f}%|{bar}| {n:.1f}/{total:.1f} h [{elapsed}]",
    )

    def progress(fraction: float) -> None:
        bar.update(max(0.0, round(fraction * hours, 2) - bar.n))

    try:
        result = asyncio.run(run_fleet(config, csms, speed=parse_speed(speed), plan=plan,
                                       on_progress=progress, soap_url=soap_url))  # fmt: skip
    finally:
        bar.close()
    if truth:
        result.write_json(truth)
    energy = sum(s.energy_wh for s in result.sessions) / 1000
    undelivered = sum(not s.delivered for s in result.sessions)
    typer.echo(
        f"{len(plan.chargers)} chargers, {len(result.sessions)} sessions, {energy:.1f} kWh, "
        f"{result.messages_sent} calls sent in {result.wall_seconds:.1f} s"
    )
    typer.echo(
        f"errors: {len(result.errors)}, undelivered sessions: {undelivered}, "
        f"CSMS schema violations: {result.csms_violations}"
    )
    for line in result.errors[:10]:
        typer.echo(f"  {line}")
    for charger, crash in result.failures.items():
        typer.echo(f"charger {charger} failed: {crash}", err=True)
    raise typer.Exit(0 if result.ok else 1)
