"""The listening side: handshakes, refusals, malformed frames, HTTP endpoints.

The bridge runs in this process on a real socket; peers are real clients.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest
import websockets
import websockets.exceptions

from ocppkit.toolkit.csms import Csms, CsmsSettings
from ocppkit.toolkit.gateway.server import Bridge
from tests.gateway.test_e2e_session import bridge_config

pytestmark = pytest.mark.timeout(60)


@asynccontextmanager
async def running(
    tmp: Path, settings: CsmsSettings | None = None, **extra: Any
) -> AsyncIterator[tuple[Csms, Bridge, str]]:
    """A built-in CSMS (strict one-call by default) and a bridge in front of it."""
    csms = Csms(settings or CsmsSettings(strict_one_call=True))
    await csms.start()
    bridge = Bridge(bridge_config(csms.url, tmp, **extra))
    await bridge.start()
    try:
        yield csms, bridge, f"127.0.0.1:{bridge.port}"
    finally:
        await bridge.stop()
        await csms.stop()


def run(tmp: Path, body: Callable[[Csms, Bridge, str], Awaitable[None]], **extra: Any) -> None:
    async def main() -> None:
        async with running(tmp, **extra) as (csms, bridge, where):
            await body(csms, bridge, where)

    asyncio.run(main())


async def exchange(ws: Any, text: str, timeout: float = 5.0) -> list[Any]:
    await ws.send(text)
    return list(orjson.loads(await asyncio.wait_for(ws.recv(), timeout)))


# -- handshakes -----------------------------------------------------------------------


def test_unknown_subprotocol_is_refused_by_closing_without_one(tmp_path: Path) -> None:
    async def body(csms: Csms, bridge: Bridge, where: str) -> None:
        async with websockets.connect(f"ws://{where}/ocpp/CP1", subprotocols=["ocpp1.5"]) as ws:
            assert ws.subprotocol is None
            with pytest.raises(websockets.exceptions.ConnectionClosed):
                await asyncio.wait_for(ws.recv(), 5)
            assert ws.close_code == 1002
        assert bridge.metrics.value("ocppkit_bridge_refused_total", reason="subprotocol") == 1

    run(tmp_path, body)


def test_unknown_subprotocol_can_be_refused_before_the_upgrade_as_octt_expects(
    tmp_path: Path,
) -> None:
    async def body(csms: Csms, bridge: Bridge, where: str) -> None:
        with pytest.raises(websockets.exceptions.InvalidStatus) as refused:
            await websockets.connect(f"ws://{where}/ocpp/CP1", subprotocols=["ocpp0.1"])
        assert refused.value.response.status_code == 400
        offers = ["ocpp0.1", "ocpp1.6"]
        async with websockets.connect(f"ws://{where}/ocpp/CP1", subprotocols=offers) as ws:
            assert ws.subprotocol == "ocpp1.6"
        assert bridge.metrics.value("ocppkit_bridge_refused_total", reason="subprotocol") == 1

    run(tmp_path, body, unknown_subprotocol="refuse")


def test_a_201_station_is_passed_through_unchanged(tmp_path: Path) -> None:
    async def body(csms: Csms, bridge: Bridge, where: str) -> None:
        boot = {"reason": "PowerUp", "chargingStation": {"model": "M", "vendorName": "V"}}
        url = f"ws://{where}/ocpp/CP201"
        async with websockets.connect(url, subprotocols=["ocpp2.0.1"]) as ws:
            assert ws.subprotocol == "ocpp2.0.1"
            answer = await exchange(ws, orjson.dumps([2, "b1", "BootNotification", boot]).decode())
            assert answer[:2] == [3, "b1"] and answer[2]["status"] == "Accepted"
        assert csms.stations["CP201"].boot == boot
        assert csms.violations == 0

    run(tmp_path, body)


def test_allow_list_and_basic_auth_bind_the_charger_id(tmp_path: Path) -> None:
    def auth(user: str, password: str) -> dict[str, str]:
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        return {"Authorization": f"Basic {token}"}

    async def body(csms: Csms, bridge: Bridge, where: str) -> None:
        async def status(cp: str, headers: dict[str, str]) -> int:
            try:
                async with websockets.connect(f"ws://{where}/ocpp/{cp}", subprotocols=["ocpp1.6"],
                                              additional_headers=headers):  # fmt: skip
                    return 101
            except websockets.exceptions.InvalidStatus as exc:
                return exc.response.status_code

        assert await status("CP9", auth("CP9", "pw9")) == 404  # not on the allow-list
        assert await status("CP1", {}) == 401
        assert await status("CP1", auth("CP1", "wrong")) == 401
        assert await status("CP1", auth("CP2", "pw2")) == 401  # someone else's credentials
        assert await status("CP1", auth("CP1", "pw1")) == 101

    run(tmp_path, body, allow=("CP1", "CP2"), charger_passwords={"CP1": "pw1", "CP2": "pw2"})


def test_healthz_and_metrics_are_served_on_the_same_port(tmp_path: Path) -> None:
    async def body(csms: Csms, bridge: Bridge, where: str) -> None:
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://{where}/healthz") as resp:
                assert resp.status == 200
                assert (await resp.json())["status"] == "ok"
            async with http.get(f"http://{where}/metrics") as resp:
                assert resp.status == 200
                assert resp.headers["Content-Type"].startswith("text/plain; version=0.0.4")
                assert "# TYPE ocppkit_bridge_connected_chargers gauge" in await resp.text()

    run(tmp_path, body)


# -- frames -------------------------------------------------------------------------------

# (frame, expected 1.6 CALLERROR code, or None when no id can be read)
MALFORMED = [
    ('[2,"m-null","Heartbeat",null]', "FormationViolation"),
    ('[2,"m-list","Heartbeat",[]]', "FormationViolation"),
    ('[2,"m-len","Heartbeat"]', "ProtocolError"),
    ('[2,"m-act",17,{}]', "ProtocolError"),
    ('[2,"m-unknown","MakeCoffee",{}]', "NotImplemented"),
    ('[2,"m-type","StatusNotification",{"connectorId":"one","errorCode":"NoError",'
     '"status":"Available"}]', "TypeConstraintViolation"),
    ('[2,"m-miss","StatusNotification",{"connectorId":1,"status":"Available"}]',
     "OccurenceConstraintViolation"),
    ('[2,"m-enum","StatusNotification",{"connectorId":1,"errorCode":"NoError",'
     '"status":"Asleep"}]', "PropertyConstraintViolation"),
    ('[2,"m-extra","Heartbeat",{"surprise":1}]', "FormationViolation"),
    ("not json at all", None),
    ("[]", None),
    ('{"an": "object"}', None),
]  # fmt: skip


@pytest.mark.parametrize("rounds", [40])
def test_malformed_frames_each_get_the_right_callerror_and_the_connection_stays(
    tmp_path: Path, rounds: int
) -> None:
    async def body(csms: Csms, bridge: Bridge, where: str) -> None:
        async with websockets.connect(f"ws://{where}/ocpp/CPBAD", subprotocols=["ocpp1.6"]) as ws:
            for r in range(rounds):
                for frame, code in MALFORMED:
                    frame = frame.replace('"m-', f'"{r}-')
                    await ws.send(frame)
                    if code is None:
                        continue
                    answer = orjson.loads(await asyncio.wait_for(ws.recv(), 5))
                    assert answer[0] == 4 and answer[2] == code, (frame, answer)
                    assert answer[1] == orjson.loads(frame)[1]
            # Still the same, working connection.
            boot = {"chargePointModel": "M", "chargePointVendor": "V"}
            answer = await exchange(ws, orjson.dumps([2, "ok", "BootNotification", boot]).decode())
            assert answer[:2] == [3, "ok"] and answer[2]["status"] == "Accepted"
        assert csms.violations == 0
        errors = bridge.metrics.total("ocppkit_bridge_frame_errors_total", leg="downstream")
        assert errors == len(MALFORMED) * rounds

    run(tmp_path, body)


def test_a_second_call_while_one_is_outstanding_is_queued_not_sent_concurrently(
    tmp_path: Path,
) -> None:
    async def body(csms: Csms, bridge: Bridge, where: str) -> None:
        boot = {"chargePointModel": "M", "chargePointVendor": "V"}
        async with websockets.connect(f"ws://{where}/ocpp/CPQ", subprotocols=["ocpp1.6"]) as ws:
            await exchange(ws, orjson.dumps([2, "boot", "BootNotification", boot]).decode())
            # Five calls back to back, none waiting for its answer (a real,
            # misbehaving charger); the strict CSMS refuses concurrent calls.
            # (Not Heartbeats: those are answered locally while the slot is busy.)
            for i in range(5):
                await ws.send(orjson.dumps([2, f"a{i}", "Authorize", {"idTag": f"T{i}"}]).decode())
            answers = [orjson.loads(await asyncio.wait_for(ws.recv(), 5)) for _ in range(5)]
        assert [a[1] for a in answers] == [f"a{i}" for i in range(5)]
        assert all(a[0] == 3 and "idTagInfo" in a[2] for a in answers)
        assert csms.stations["CPQ"].concurrent_calls == 0
        assert csms.violations == 0

    run(tmp_path, body)


def test_more_than_a_hundred_chargers_are_bridged_at_once(tmp_path: Path) -> None:
    # Regression: a default aiohttp pool (100 connections) stalled charger 101.
    async def body(csms: Csms, bridge: Bridge, where: str) -> None:
        boot = {"chargePointModel": "M", "chargePointVendor": "V"}
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
            links = [
                await http.ws_connect(f"http://{where}/ocpp/MANY{i}", protocols=("ocpp1.6",))
                for i in range(110)
            ]
            for ws in links:
                await ws.send_str(orjson.dumps([2, "b", "BootNotification", boot]).decode())
            answers = [orjson.loads((await ws.receive(timeout=10)).data) for ws in links]
            assert all(a[0] == 3 and a[2]["status"] == "Accepted" for a in answers)
            assert bridge.metrics.value("ocppkit_bridge_upstream_connected") == 110
            for ws in links:
                await ws.close()
        assert len(csms.stations) == 110

    run(tmp_path, body)
