"""Password rotation through the reverse bridge: a 2.0.1 station behind a 1.6 CSMS.

The 1.6 CSMS sends ChangeConfiguration ``AuthorizationKey`` (1.6 security
whitepaper §3.3); the station gets SetVariables
``SecurityCtrlr.BasicAuthPassword``; once it answers Accepted, the new key is
what it must show downstream (durably: a restarted bridge knows it) and what
the bridge shows the 1.6 CSMS upstream. The CSMS here is a small 1.6 server
that records the Authorization header of each connection; the station is a
raw 2.0.1 WebSocket client.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import orjson
import pytest

from ocppkit.toolkit.gateway.server import Bridge
from tests.gateway import rotation_kit as kit
from tests.gateway.rotation_kit import RecordingCsms, basic
from tests.gateway.test_e2e_session import bridge_config

pytestmark = [pytest.mark.timeout(60), pytest.mark.network]
NEW_KEY = "00112233445566778899aabbccddeeff"
CP = "ST1"
BOOT = {"reason": "PowerUp", "chargingStation": {"model": "M1", "vendorName": "Acme"}}


def connect(bridge: Bridge, password: str) -> Any:
    return kit.connect(bridge, CP, "ocpp2.0.1", password)


async def refused(bridge: Bridge, password: str) -> int | None:
    return await kit.refused(bridge, CP, "ocpp2.0.1", password)


async def booted(ws: Any) -> None:
    answer = await kit.booted(ws, BOOT)
    assert answer[2]["status"] == "Accepted"


async def change_key(csms: RecordingCsms, value: str) -> Any:
    payload = {"key": "AuthorizationKey", "value": value}
    return await csms.command("cc-1", "ChangeConfiguration", payload)


def rotate(tmp_path: Path, station_answer: str) -> dict[str, Any]:
    async def main() -> dict[str, Any]:
        csms = RecordingCsms("ocpp1.6")
        await csms.start()
        out: dict[str, Any] = {}
        cfg = bridge_config(
            csms.url, tmp_path, upstream_version="1.6",
            charger_passwords={CP: "old-password-0001"}, upstream_password="configured-up-1",
        )  # fmt: skip
        try:
            bridge = Bridge(cfg)
            await bridge.start()
            try:
                ws = await connect(bridge, "old-password-0001")
                await booted(ws)
                answer_task = asyncio.create_task(change_key(csms, NEW_KEY))
                command = orjson.loads(await asyncio.wait_for(ws.recv(), 10))
                out["command"] = command
                entry = command[3]["setVariableData"][0]
                result = {"attributeStatus": station_answer, "component": entry["component"],
                          "variable": entry["variable"]}  # fmt: skip
                answer = {"setVariableResult": [result]}
                await ws.send(orjson.dumps([3, command[1], answer]).decode())
                out["csms_answer"] = await answer_task
                await ws.close()
                out["old_before_new"] = await refused(bridge, "old-password-0001")
                out["new"] = await refused(bridge, NEW_KEY)
                out["old_after_new"] = await refused(bridge, "old-password-0001")
                out["rotations"] = bridge.metrics.value("ocppkit_bridge_credentials_rotated_total")
            finally:
                await bridge.stop()
            bridge = Bridge(cfg)  # a new process on the same state
            await bridge.start()
            try:
                out["old_after_restart"] = await refused(bridge, "old-password-0001")
                ws = await connect(
                    bridge, NEW_KEY if station_answer == "Accepted" else "old-password-0001"
                )
                await booted(ws)
                await ws.close()
            finally:
                await bridge.stop()
        finally:
            await csms.stop()
        out["upstream_auth"] = csms.auth
        return out

    return asyncio.run(main())


def test_a_16_csms_rotating_a_201_stations_key_is_followed_on_both_legs(tmp_path: Path) -> None:
    out = rotate(tmp_path, "Accepted")
    assert out["command"][2] == "SetVariables"
    assert out["command"][3]["setVariableData"] == [{
        "attributeValue": NEW_KEY,
        "component": {"name": "SecurityCtrlr"},
        "variable": {"name": "BasicAuthPassword"},
    }]  # fmt: skip
    assert out["csms_answer"] == [3, "cc-1", {"status": "Accepted"}]
    # Until the new key has been seen once, the old one still works; then only the new.
    assert out["old_before_new"] is None and out["new"] is None
    assert out["old_after_new"] == 401 and out["old_after_restart"] == 401
    assert out["rotations"] == 1
    assert out["upstream_auth"][0] == basic(CP, "configured-up-1")["Authorization"]
    assert out["upstream_auth"][-1] == basic(CP, NEW_KEY)["Authorization"]


def test_a_key_the_201_station_rejects_changes_nothing(tmp_path: Path) -> None:
    out = rotate(tmp_path, "Rejected")
    assert out["csms_answer"] == [3, "cc-1", {"status": "Rejected"}]
    assert out["new"] == 401 and out["old_after_new"] is None and out["rotations"] == 0
    assert set(out["upstream_auth"]) == {basic(CP, "configured-up-1")["Authorization"]}
