"""Run a planned fleet against a CSMS over real WebSockets: :func:`run_fleet`."""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Callable
from datetime import datetime

import aiohttp

from ocppkit.toolkit.simulator.behaviour import plan_fleet
from ocppkit.toolkit.simulator.charger15 import Charger15
from ocppkit.toolkit.simulator.charger16 import Charger16
from ocppkit.toolkit.simulator.charger201 import Charger21, Charger201
from ocppkit.toolkit.simulator.clock import Clock, ScaledClock, VirtualClock
from ocppkit.toolkit.simulator.model import FleetConfig, FleetPlan
from ocppkit.toolkit.simulator.runner import Charger
from ocppkit.toolkit.simulator.soap_link import callback_server, soap_url_for
from ocppkit.toolkit.simulator.state import DriverSettings
from ocppkit.toolkit.simulator.truth import FleetResult
from ocppkit.translators.errors import ConfigError
from ocppkit.translators.validation import ValidationMode, Validator
from ocppkit.translators.versions import OcppVersion

DRIVERS: dict[OcppVersion, type[Charger]] = {
    OcppVersion.V15: Charger15,
    OcppVersion.V16: Charger16,
    OcppVersion.V201: Charger201,
    OcppVersion.V21: Charger21,
}


async def run_fleet(
    config: FleetConfig,
    csms_url: str,
    *,
    speed: float | None = 2000.0,
    plan: FleetPlan | None = None,
    settings: DriverSettings | None = None,
    on_progress: Callable[[float], None] | None = None,
    soap_url: str | None = None,
    clock: ScaledClock | None = None,
) -> FleetResult:
    """Play every charger's plan against ``csms_url`` and report what was done.

    Args:
        config: the fleet; its seed gives the plan unless ``plan`` is passed.
        csms_url: e.g. ``ws://127.0.0.1:9000/ocpp``; charger ``X`` connects to
            ``{csms_url}/X`` with subprotocol ``ocpp1.6`` or ``ocpp2.0.1``.
        speed: simulated seconds per wall second (2000: a day in 43 s); ``None`` runs as
            fast as the CSMS answers, each charger on its own virtual clock.
        plan: a ready plan (e.g. edited by a test); by default ``plan_fleet(config, seed)``.
        settings: timeouts, retries and backoff of the drivers.
        on_progress: called about four times a second with the fraction of the period done.
        soap_url: where 1.5 chargers POST their SOAP requests; by default the bridge's
            layout, ``{csms_url}/soap15`` over http (see :func:`.soap_link.soap_url_for`).
        clock: the fleet's shared clock, for a caller that hands the same clock to the
            other parts of a simulated site (bridge, CSMS) so that everything they stamp
            is on the simulated timeline too. It must start at ``config.start``; it sets
            the pace instead of ``speed``. The fleet starts it (:meth:`ScaledClock.begin`)
            when the chargers are ready.

    Returns:
        the ground truth: sessions with the transaction ids really used, per-charger
        counters and errors, and the crashes of any charger (``failures``).

    Raises:
        ConfigError: the plan has a charger of a version no driver exists for, or
            ``clock`` does not start at ``config.start``.
    """
    plan = plan or plan_fleet(config, random.Random(config.seed))
    for c in plan.chargers:
        if c.spec.version not in DRIVERS:
            raise ConfigError(f"no simulator driver for OCPP {c.spec.version} yet")
    if clock is not None and clock.start != config.start:
        raise ConfigError(f"the fleet clock starts at {clock.start}, the fleet at {config.start}")
    settings = settings or DriverSettings()
    validator = Validator(ValidationMode.STRICT)
    shared = clock or (ScaledClock(config.start, speed) if speed else None)
    clocks: list[Clock] = [shared or VirtualClock(config.start) for _ in plan.chargers]
    wall0 = time.perf_counter()
    # No pool limit: each charger holds its own WebSocket for the whole run.
    async with contextlib.AsyncExitStack() as stack:
        http = await stack.enter_async_context(
            aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        )
        soap: dict[str, object] = {}
        if any(c.spec.version is OcppVersion.V15 for c in plan.chargers):
            # 1.5 chargers are called back over HTTP at an address they announce.
            callback = await stack.enter_async_context(callback_server())
            soap = {"callback": callback, "soap_url": soap_url or soap_url_for(csms_url)}
        chargers = [
            DRIVERS[p.spec.version](
                p,
                **(soap if p.spec.version is OcppVersion.V15 else {}),
                clock=clock,
                http=http,
                csms_url=csms_url,
                validator=validator,
                end=plan.end,
                settings=settings,
                seed=config.seed,
            )
            for p, clock in zip(plan.chargers, clocks, strict=True)
        ]
        if shared is not None:
            shared.begin()
        monitor = None
        if on_progress is not None:
            monitor = asyncio.create_task(_report(on_progress, clocks, config.start, plan.end))
        outcomes = await asyncio.gather(*(c.run() for c in chargers), return_exceptions=True)
        if monitor is not None:
            monitor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await monitor
    if on_progress is not None:
        on_progress(1.0)
    failures = {
        c.spec.charge_point_id: repr(o)
        for c, o in zip(chargers, outcomes, strict=True)
        if isinstance(o, BaseException)
    }
    return FleetResult(
        sessions=tuple(s for c in chargers for s in c.sessions()),
        chargers=tuple(
            o if not isinstance(o, BaseException) else c.truth()
            for c, o in zip(chargers, outcomes, strict=True)
        ),
        sim_start=config.start,
        sim_end=plan.end,
        wall_seconds=time.perf_counter() - wall0,
        failures=failures,
    )


async def _report(
    on_progress: Callable[[float], None], clocks: list[Clock], start: datetime, end: datetime
) -> None:
    span = (end - start).total_seconds()
    distinct = list({id(c): c for c in clocks}.values())
    while True:
        done = sum(min(span, (c.now() - start).total_seconds()) for c in distinct)
        on_progress(done / span / len(distinct))
        await asyncio.sleep(0.25)
