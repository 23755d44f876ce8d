"""Chargers that speak the upstream version: frames piped unchanged, both legs journaled.

A station that negotiates the CSMS's own version (``ocpp2.0.1``, or
``ocpp1.6`` in front of a 1.6 CSMS) needs no translation; the bridge
still gives it the same upstream security, journal and metrics as the
bridged chargers, so an operator runs one endpoint for the whole fleet.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import aiohttp
from aiohttp import web

from ocppkit.toolkit.gateway.logs import event
from ocppkit.toolkit.gateway.services import Services, wire_message
from ocppkit.toolkit.gateway.upstream import auth_headers, upstream_url
from ocppkit.translators.journal import Direction, Leg
from ocppkit.translators.versions import OcppVersion


async def serve_passthrough(
    svc: Services,
    cp_id: str,
    request: web.Request,
    version: OcppVersion = OcppVersion.V201,
) -> web.StreamResponse:
    """Connect ``cp_id`` upstream, then pipe its frames both ways until one side closes.

    ``version`` is what the charger and the CSMS both speak: 2.0.1 stations
    in front of a 2.0.1 CSMS, or 1.6 chargers in front of a 1.6 CSMS.
    """
    cfg = svc.cfg
    subprotocol = version.subprotocol or ""

    def _journal(leg: Leg, direction: Direction, text: str) -> None:
        svc.journal_frame(cp_id, leg, direction, version, wire_message(text))

    try:
        up = await asyncio.wait_for(
            svc.http.ws_connect(
                upstream_url(cfg.upstream, cp_id),
                protocols=(subprotocol,),
                headers=auth_headers(cfg, cp_id),
                ssl=svc.ssl_context if svc.ssl_context is not None else True,
                heartbeat=cfg.ping_interval or None,
            ),
            cfg.connect_timeout,
        )
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        event(svc.log, logging.WARNING, "passthrough_upstream_failed", cp=cp_id, error=str(exc))
        svc.metrics.inc("ocppkit_bridge_refused_total", reason="upstream_unreachable")
        return web.Response(status=503, headers={"Retry-After": "10"}, text="CSMS unreachable\n")
    down = web.WebSocketResponse(protocols=(subprotocol,), heartbeat=cfg.ping_interval or None)
    await down.prepare(request)
    event(svc.log, logging.INFO, "passthrough_connected", cp=cp_id)

    async def pump_up() -> None:
        async for msg in down:
            if msg.type == aiohttp.WSMsgType.TEXT:
                _journal(Leg.DOWNSTREAM, Direction.CS_TO_CSMS, msg.data)
                await up.send_str(msg.data)
                _journal(Leg.UPSTREAM, Direction.CS_TO_CSMS, msg.data)

    async def pump_down() -> None:
        async for msg in up:
            if msg.type == aiohttp.WSMsgType.TEXT:
                _journal(Leg.UPSTREAM, Direction.CSMS_TO_CS, msg.data)
                await down.send_str(msg.data)
                _journal(Leg.DOWNSTREAM, Direction.CSMS_TO_CS, msg.data)

    tasks = [asyncio.create_task(pump_up()), asyncio.create_task(pump_down())]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        with contextlib.suppress(Exception):
            await asyncio.gather(*tasks, return_exceptions=True)
        await up.close()
        await down.close()
        event(svc.log, logging.INFO, "passthrough_closed", cp=cp_id)
    return down
