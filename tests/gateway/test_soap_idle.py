"""A 1.5 SOAP charger that has gone away stops holding its CSMS connection.

SOAP is plain HTTP: nothing tells the bridge a charger is gone. After
``soap_idle_timeout`` of silence (default three heartbeat intervals) the
bridge lets the charger's upstream connection go, /metrics stops counting it
connected, and its next request opens everything again. The charger here is
raw SOAP 1.2 over aiohttp, built with the project's 1.5 codec; the CSMS is
the strict built-in one.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from ocppkit.toolkit.csms import Csms, CsmsSettings
from ocppkit.toolkit.gateway.server import Bridge
from ocppkit.toolkit.gateway.soap import SoapLink
from ocppkit.translators.soap15 import build_request
from ocppkit.translators.soap15.operations import Role
from tests.gateway.test_server import running

pytestmark = [pytest.mark.timeout(60), pytest.mark.network]
CP = "CP15-IDLE"
SOAP = "application/soap+xml; charset=utf-8"
BOOT = {"chargePointVendor": "Acme", "chargePointModel": "W15"}


async def request(port: int, operation: str, payload: dict[str, Any]) -> int:
    url = f"http://127.0.0.1:{port}/ocpp/soap15"
    envelope = build_request(
        Role.CENTRAL_SYSTEM, operation, payload, charge_box_identity=CP, to=url,
        message_id=f"urn:uuid:{uuid.uuid4()}", from_address="http://127.0.0.1:9/cp",
    )  # fmt: skip
    async with (
        aiohttp.ClientSession() as http,
        http.post(url, data=envelope, headers={"Content-Type": SOAP}) as resp,
    ):
        await resp.read()
        return resp.status


async def until(check: Callable[[], bool], what: str, seconds: float = 20.0) -> None:
    for _ in range(int(seconds / 0.05)):
        if check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"never: {what}")


def run(tmp: Path, body: Callable[[Csms, Bridge], Awaitable[None]], **extra: Any) -> None:
    async def main() -> None:
        async with running(tmp, CsmsSettings(heartbeat_interval=7), **extra) as (csms, bridge, _):
            await body(csms, bridge)

    asyncio.run(main())


def test_a_silent_soap_charger_lets_its_csms_connection_go_and_its_next_request_reopens_it(
    tmp_path: Path,
) -> None:
    seen: dict[str, Any] = {}

    async def body(csms: Csms, bridge: Bridge) -> None:
        def gauge(name: str) -> float:
            return bridge.metrics.value(f"ocppkit_bridge_{name}")

        seen["boot"] = await request(bridge.port, "BootNotification", BOOT)
        seen["connected"] = (gauge("connected_chargers"), gauge("upstream_connected"))
        seen["csms_saw"] = CP in csms.connected_stations()
        await until(lambda: CP not in csms.connected_stations(), "CSMS link closed")
        await until(lambda: gauge("upstream_connected") == 0, "upstream gauge at 0")
        seen["gone"] = (gauge("connected_chargers"), gauge("upstream_connected"))
        seen["heartbeat"] = await request(bridge.port, "Heartbeat", {})
        seen["back"] = (gauge("connected_chargers"), CP in csms.connected_stations())
        seen["closed"] = bridge.metrics.value("ocppkit_bridge_soap_idle_closed_total")

    run(tmp_path, body, soap_idle_timeout=1.0)
    assert seen["boot"] == 200 and seen["connected"] == (1, 1) and seen["csms_saw"]
    assert seen["gone"] == (0, 0)
    assert seen["heartbeat"] == 200 and seen["back"] == (1, True)
    assert seen["closed"] >= 1


def test_by_default_a_soap_charger_is_idle_after_three_heartbeat_intervals(
    tmp_path: Path,
) -> None:
    seen: dict[str, float] = {}

    async def body(csms: Csms, bridge: Bridge) -> None:
        await request(bridge.port, "BootNotification", BOOT)
        link = bridge.sessions[CP].downstream
        assert isinstance(link, SoapLink)
        seen["timeout"] = link.idle_timeout()
        seen["closed"] = bridge.metrics.value("ocppkit_bridge_soap_idle_closed_total")

    run(tmp_path, body)
    assert seen == {
        "timeout": 21.0,
        "closed": 0,
    }  # the CSMS said 7 s in its BootNotification answer
