"""A call the CSMS drops the link on every time, over real sockets (#16 item 14).

The CSMS here is a small 2.0.1 server that closes the connection whenever it
receives a DataTransfer and answers everything else. The bridge must wait
longer before each resend, give the call up after ``poison_attempts`` losses,
keep it as a dead letter, answer the charger with a CALLERROR, carry on with
the calls behind it, report ``degraded`` on /healthz until the dead letter is
acknowledged, and show it through ``ocppkit bridge dead-letters``.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import orjson
import pytest
import websockets
from aiohttp import web
from typer.testing import CliRunner

from ocppkit.toolkit.gateway.server import Bridge
from ocppkit.translators.bridge import DEAD_LETTER_TEXT
from tests.gateway.test_command import app as bridge_cli
from tests.gateway.test_e2e_session import bridge_config
from tests.gateway.test_hardening import healthz, until

pytestmark = pytest.mark.timeout(60)
BOOT = {"chargePointVendor": "Acme", "chargePointModel": "W1"}
NOW = "2026-01-01T00:00:00.000Z"


def test_a_poison_call_becomes_a_dead_letter_the_charger_hears_a_callerror_and_healthz_degrades(
    tmp_path: Path,
) -> None:
    received: list[tuple[str, str]] = []  # (action, message id)

    async def handle(request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(protocols=("ocpp2.0.1",))
        await ws.prepare(request)
        async for msg in ws:
            frame = orjson.loads(msg.data)
            if frame[0] != 2:
                continue
            received.append((frame[2], frame[1]))
            if frame[2] == "DataTransfer":
                await ws.close()  # the poison
                break
            answer: dict[str, Any] = {}
            if frame[2] == "BootNotification":
                answer = {"currentTime": NOW, "interval": 60, "status": "Accepted"}
            await ws.send_str(orjson.dumps([3, frame[1], answer]).decode())
        return ws

    async def main() -> tuple[list[Any], list[Any], float, list[dict[str, Any]]]:
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
        health: list[dict[str, Any]] = []
        try:
            status, body = await healthz(bridge.port)
            health.append(body)
            cp = f"ws://127.0.0.1:{bridge.port}/ocpp/CP1"
            async with websockets.connect(cp, subprotocols=["ocpp1.6"]) as ws:
                await ws.send(orjson.dumps([2, "b", "BootNotification", BOOT]).decode())
                await asyncio.wait_for(ws.recv(), 10)
                await ws.send(orjson.dumps([2, "dt", "DataTransfer", {"vendorId": "X"}]).decode())
                await ws.send('[2,"st",' + orjson.dumps(["StatusNotification", {
                    "connectorId": 1, "errorCode": "NoError", "status": "Available",
                }]).decode()[1:])  # fmt: skip
                first = orjson.loads(await asyncio.wait_for(ws.recv(), 30))
                second = orjson.loads(await asyncio.wait_for(ws.recv(), 30))
                await until(lambda: bridge.sessions["CP1"].upstream.connected.is_set())
                status, body = await healthz(bridge.port)
                assert status == 200  # degraded: traffic flows
                health.append(body)
                # The operator looks, and acknowledges.
                listed = CliRunner().invoke(
                    bridge_cli(),
                    ["bridge", "dead-letters", "--state", cfg.state, "--json", "--ack"],
                )
                assert listed.exit_code == 0, listed.output
                rows = [json.loads(line) for line in listed.stdout.splitlines() if line]
                _, body = await healthz(bridge.port)
                health.append(body)
            dead = bridge.metrics.value("ocppkit_bridge_dead_letters_total")
        finally:
            await bridge.stop()
            await runner.cleanup()
        return first, second, dead, [*health, *rows]

    first, second, dead, seen = asyncio.run(main())
    before, during, after, *rows = seen
    assert first == [4, "dt", "InternalError", DEAD_LETTER_TEXT, {}]
    assert second[:2] == [3, "st"], second  # the call behind it went through
    sends = [mid for action, mid in received if action == "DataTransfer"]
    assert len(sends) == 3 and len(set(sends)) == 1  # the same id each time, then given up
    assert dead == 1
    assert before["status"] == "ok" and before["dead_letters"] == 0
    assert during["status"] == "degraded" and "dead_letters" in during["problems"]
    assert during["dead_letters"] == 1
    assert after["status"] == "ok" and after["dead_letters"] == 0
    (row,) = rows
    assert row["charge_point_id"] == "CP1" and row["attempts"] == 3
    assert row["action"] == "DataTransfer" and row["message_id"] == sends[0]
    assert row["frame"][3] == {"vendorId": "X"}


def test_dead_letters_lists_nothing_for_a_new_database_and_one_line_for_a_missing_one(
    tmp_path: Path,
) -> None:
    from ocppkit.toolkit.gateway.store import Store

    Store(tmp_path / "b.db").close()
    listing = ["bridge", "dead-letters", "--state"]
    result = CliRunner().invoke(bridge_cli(), [*listing, str(tmp_path / "b.db")])
    assert result.exit_code == 0 and result.stdout.strip() == "no dead letters"
    missing = CliRunner().invoke(bridge_cli(), [*listing, str(tmp_path / "x.db")])
    assert "does not exist" in str(missing.exception)
