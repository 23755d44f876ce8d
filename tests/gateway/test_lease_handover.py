"""Two bridge instances in one process on one PostgreSQL: the charger moves between them.

The charger starts a transaction through instance A, then connects to
instance B while its connection to A is still open (a balancer sent the new
connection elsewhere). B takes the lease with the state; the StopTransaction
on B ends, at the strict 2.0.1 CSMS, the transaction A started. A late message
on the old connection to A is not acknowledged: its commit is refused by the
fencing token and counted, and A lets the charger go.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest
import websockets

from ocppkit.toolkit.csms import Csms, CsmsSettings
from ocppkit.toolkit.gateway.server import Bridge
from tests.gateway.harness import now
from tests.gateway.pg import pg_server, pg_url  # noqa: F401
from tests.gateway.test_e2e_session import bridge_config

pytestmark = pytest.mark.timeout(120)
BOOT = {"chargePointVendor": "Acme", "chargePointModel": "Wallbox-1"}


async def call(ws: Any, mid: str, action: str, payload: dict[str, Any]) -> Any:
    await ws.send(orjson.dumps([2, mid, action, payload]).decode())
    while True:
        frame = orjson.loads(await asyncio.wait_for(ws.recv(), 10))
        if frame[0] in (3, 4) and frame[1] == mid:
            return frame


async def get(port: int, path: str) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}{path}") as r:
        return r.status, (await r.json() if "json" in r.content_type else await r.text())


def test_a_stop_on_instance_b_ends_the_transaction_a_started_and_a_late_write_on_a_is_fenced(
    tmp_path: Path,
    pg_url: str,  # noqa: F811
) -> None:
    async def main() -> dict[str, Any]:
        csms = Csms(CsmsSettings(strict_one_call=True))
        await csms.start()
        a = Bridge(
            bridge_config(csms.url, tmp_path / "a", state=pg_url, instance="A", drain_timeout=3)
        )
        b = Bridge(
            bridge_config(csms.url, tmp_path / "b", state=pg_url, instance="B", drain_timeout=3)
        )
        await a.start()
        await b.start()
        out: dict[str, Any] = {}
        try:
            assert a.port is not None and b.port is not None
            ready, live = await get(a.port, "/healthz/ready"), await get(a.port, "/healthz/live")
            out["ready"] = ready[0], live[0]
            old = await websockets.connect(f"ws://127.0.0.1:{a.port}/ocpp/CPH",
                                           subprotocols=["ocpp1.6"])  # fmt: skip
            await call(old, "b1", "BootNotification", BOOT)
            start = {"connectorId": 1, "idTag": "TAG1", "meterStart": 1000, "timestamp": now()}
            tx = (await call(old, "s1", "StartTransaction", start))[2]["transactionId"]
            async with websockets.connect(f"ws://127.0.0.1:{b.port}/ocpp/CPH",
                                          subprotocols=["ocpp1.6"]) as new:  # fmt: skip
                # A late message on the old connection: A's commit is fenced.
                await old.send('[2,"late","StatusNotification",{"connectorId":1,'
                               '"errorCode":"NoError","status":"Charging"}]')  # fmt: skip
                late: list[Any] = []
                try:
                    while True:
                        late.append(orjson.loads(await asyncio.wait_for(old.recv(), 10)))
                except websockets.exceptions.ConnectionClosed:
                    pass
                out["late_answers"] = [f for f in late if f[1] == "late"]
                stop = {"transactionId": tx, "meterStop": 4500, "timestamp": now(),
                        "reason": "Local"}  # fmt: skip
                out["stop"] = await call(new, "e1", "StopTransaction", stop)
            _, metrics_a = await get(a.port, "/metrics")
            _, metrics_b = await get(b.port, "/metrics")
            out["metrics_a"], out["metrics_b"] = metrics_a, metrics_b
        finally:
            await a.stop()
            await b.stop()
            await csms.stop()
        out["csms"] = csms
        return out

    out = asyncio.run(main())
    assert out["ready"] == (200, 200)
    assert out["late_answers"] == []  # not stored, so not acknowledged
    assert out["stop"][0] == 3
    csms = out["csms"]
    assert csms.violations == 0, csms.violation_log
    (tx,) = [t for t in csms.transactions.values() if t.station_id == "CPH"]
    assert tx.event_types[0] == "Started" and tx.event_types[-1] == "Ended"
    assert tx.event_types.count("Started") == tx.event_types.count("Ended") == 1
    assert sorted(tx.seq_nos) == list(range(len(tx.seq_nos)))
    assert tx.energy_wh == Decimal(3500)
    assert "ocppkit_bridge_fencing_rejections_total 1" in out["metrics_a"]
    assert 'ocppkit_bridge_lease_takeovers_total{previous="live"} 1' in out["metrics_b"]
    assert "ocppkit_bridge_owned_chargers 1" in out["metrics_b"]
