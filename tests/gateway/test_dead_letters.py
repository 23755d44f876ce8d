"""A call the CSMS drops the link on every time (issue #16 item 14, second point).

The CSMS here is a small 2.0.1 server that closes the connection whenever it
receives a DataTransfer and answers everything else. The bridge must back off
between resends, give the call up after ``poison_attempts`` losses, keep it as
a dead letter, answer the charger with a CALLERROR, and carry on with the
calls behind it.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import orjson
import pytest
import websockets
from aiohttp import web

from ocppkit.toolkit.gateway.dead_letters import DEAD_LETTER_TEXT
from ocppkit.toolkit.gateway.server import Bridge
from ocppkit.toolkit.gateway.store import Store
from tests.gateway.test_e2e_session import bridge_config

pytestmark = pytest.mark.timeout(60)
BOOT = {"chargePointVendor": "Acme", "chargePointModel": "W1"}


def test_a_poison_call_is_given_up_as_a_dead_letter_and_the_charger_hears_a_callerror(
    tmp_path: Path,
) -> None:
    received: list[str] = []

    async def main() -> tuple[list[Any], list[Any], float]:
        async def handle(request: web.Request) -> web.StreamResponse:
            ws = web.WebSocketResponse(protocols=("ocpp2.0.1",))
            await ws.prepare(request)
            async for msg in ws:
                frame = orjson.loads(msg.data)
                if frame[0] != 2:
                    continue
                received.append(frame[2])
                if frame[2] == "DataTransfer":
                    await ws.close()  # the poison
                    break
                answer: dict[str, Any] = {"currentTime": "2026-01-01T00:00:00.000Z"}
                if frame[2] == "BootNotification":
                    answer = {"currentTime": "2026-01-01T00:00:00.000Z", "interval": 60,
                              "status": "Accepted"}  # fmt: skip
                await ws.send_str(orjson.dumps([3, frame[1], answer]).decode())
            return ws

        app = web.Application()
        app.router.add_get("/ocpp/{id}", handle)
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        url = f"ws://127.0.0.1:{runner.addresses[0][1]}/ocpp"
        cfg = bridge_config(url, tmp_path, poison_attempts=3, backoff_min=0.1, backoff_max=0.4,
                            upstream_grace=30, call_timeout=20)  # fmt: skip
        bridge = Bridge(cfg)
        await bridge.start()
        try:
            cp = f"ws://127.0.0.1:{bridge.port}/ocpp/CP1"
            async with websockets.connect(cp, subprotocols=["ocpp1.6"]) as ws:
                await ws.send(orjson.dumps([2, "b", "BootNotification", BOOT]).decode())
                await asyncio.wait_for(ws.recv(), 10)
                await ws.send(orjson.dumps([2, "dt", "DataTransfer", {"vendorId": "X"}]).decode())
                await ws.send('[2,"hb","Heartbeat",{}]')
                first = orjson.loads(await asyncio.wait_for(ws.recv(), 30))
                second = orjson.loads(await asyncio.wait_for(ws.recv(), 30))
            dead = bridge.metrics.value("ocppkit_bridge_dead_letters_total")
        finally:
            await bridge.stop()
            await runner.cleanup()
        return first, second, dead

    first, second, dead = asyncio.run(main())
    assert first[:3] == [4, "dt", "InternalError"] and DEAD_LETTER_TEXT in first[3]
    assert second[:2] == [3, "hb"], second  # the call behind it went through
    assert received.count("DataTransfer") == 3  # sent three times, then given up
    assert dead == 1
    store = Store(tmp_path / "bridge.db")
    try:
        (letter,) = store.dead_letters()
        assert letter.charge_point_id == "CP1" and letter.attempts == 3
        assert letter.frame[2] == "DataTransfer"
        assert store.outbox_depth() == 0
    finally:
        store.close()
