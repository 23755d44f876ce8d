"""The reverse bridge live: a 2.0.1 station through ``upstream_version = 1.6`` to a
strict 1.6 central system written with the independent ``ocpp`` package (v16).

Real sockets on 127.0.0.1, every wait bounded.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
import websockets
from ocpp.routing import on
from ocpp.v16 import ChargePoint
from ocpp.v16 import call as call16
from ocpp.v16 import call_result as result16
from ocpp.v16.enums import Action

from ocppkit.toolkit.gateway.server import Bridge
from ocppkit.translators.schemas import Kind
from ocppkit.translators.validation import Validator
from ocppkit.translators.versions import OcppVersion
from tests.gateway.harness import BridgeProcess
from tests.gateway.test_e2e_session import bridge_config

pytestmark = pytest.mark.timeout(60)
V201 = OcppVersion.V201
TX_ID = 4711  # what the 1.6 central system mints


def stamp() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class CentralSystem16(ChargePoint):
    """A 1.6 central system on the ``ocpp`` package: it validates every payload itself."""

    def __init__(self, cp_id: str, ws: Any, slow_meter: float = 0.0) -> None:
        super().__init__(cp_id, ws)
        self.seen: list[tuple[str, dict[str, Any]]] = []
        self.slow_meter = slow_meter

    def _saw(self, action: str, **payload: Any) -> None:
        self.seen.append((action, payload))

    @on(Action.boot_notification)
    def boot(self, **payload: Any) -> Any:
        self._saw("BootNotification", **payload)
        return result16.BootNotification(current_time=stamp(), interval=300, status="Accepted")

    @on(Action.status_notification)
    def status(self, **payload: Any) -> Any:
        self._saw("StatusNotification", **payload)
        return result16.StatusNotification()

    @on(Action.heartbeat)
    def heartbeat(self, **payload: Any) -> Any:
        self._saw("Heartbeat", **payload)
        return result16.Heartbeat(current_time=stamp())

    @on(Action.authorize)
    def authorize(self, **payload: Any) -> Any:
        self._saw("Authorize", **payload)
        return result16.Authorize(id_tag_info={"status": "Accepted"})

    @on(Action.start_transaction)
    def start_transaction(self, **payload: Any) -> Any:
        self._saw("StartTransaction", **payload)
        return result16.StartTransaction(transaction_id=TX_ID, id_tag_info={"status": "Accepted"})

    @on(Action.meter_values)
    async def meter(self, **payload: Any) -> Any:
        await asyncio.sleep(self.slow_meter)
        self._saw("MeterValues", **payload)
        return result16.MeterValues()

    @on(Action.stop_transaction)
    def stop_transaction(self, **payload: Any) -> Any:
        self._saw("StopTransaction", **payload)
        return result16.StopTransaction()


class Station201:
    """A 2.0.1 station as raw frames; every answer it gets is schema-checked."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.validator = Validator()
        self.invalid: list[str] = []
        self.commands: list[list[Any]] = []
        self._n = 0

    async def call(self, action: str, payload: dict[str, Any]) -> list[Any]:
        self._n += 1
        mid = f"s{self._n}"
        await self.ws.send(orjson.dumps([2, mid, action, payload]).decode())
        while True:
            frame = orjson.loads(await asyncio.wait_for(self.ws.recv(), 10))
            if frame[0] == 2:
                self.commands.append(frame)
                continue
            assert frame[1] == mid, frame
            if frame[0] == 3 and not self.validator.is_valid(V201, action, Kind.RESPONSE, frame[2]):
                self.invalid.append(action)
            return list(frame)


def energy(wh: float) -> list[dict[str, Any]]:
    sample = {
        "value": wh,
        "measurand": "Energy.Active.Import.Register",
        "unitOfMeasure": {"unit": "Wh"},
    }
    return [{"timestamp": stamp(), "sampledValue": [sample]}]


def test_a_201_station_charges_through_the_reverse_bridge_on_a_strict_16_central_system(
    tmp_path: Path,
) -> None:
    async def main() -> tuple[CentralSystem16, Station201, list[Any], dict[str, Any]]:
        systems: list[CentralSystem16] = []
        ready = asyncio.Event()

        async def on_connect(ws: Any) -> None:
            cs = CentralSystem16(ws.request.path.rsplit("/", 1)[-1], ws)
            systems.append(cs)
            ready.set()
            await cs.start()

        async with websockets.serve(on_connect, "127.0.0.1", 0, subprotocols=["ocpp1.6"]) as srv:
            port = srv.sockets[0].getsockname()[1]
            cfg = bridge_config(f"ws://127.0.0.1:{port}/ocpp", tmp_path, upstream_version="1.6")
            bridge = Bridge(cfg)
            await bridge.start()
            try:
                url = f"ws://127.0.0.1:{bridge.port}/ocpp/ST1"
                async with websockets.connect(url, subprotocols=["ocpp2.0.1"]) as ws:
                    assert ws.subprotocol == "ocpp2.0.1"
                    st = Station201(ws)
                    boot = await st.call("BootNotification", {
                        "chargingStation": {"model": "M", "vendorName": "V"},
                        "reason": "PowerUp",
                    })  # fmt: skip
                    assert boot[:2] == [3, "s1"] and boot[2]["status"] == "Accepted"
                    status = await st.call("StatusNotification", {
                        "timestamp": stamp(), "connectorStatus": "Occupied",
                        "evseId": 1, "connectorId": 1,
                    })  # fmt: skip
                    assert status[0] == 3
                    tx = {"transactionId": "tx-201-a"}
                    started = await st.call("TransactionEvent", {
                        "eventType": "Started", "timestamp": stamp(),
                        "triggerReason": "Authorized", "seqNo": 0, "transactionInfo": tx,
                        "idToken": {"idToken": "TAG1", "type": "ISO14443"},
                        "evse": {"id": 1, "connectorId": 1}, "meterValue": energy(1000),
                    })  # fmt: skip
                    assert started[0] == 3
                    updated = await st.call("TransactionEvent", {
                        "eventType": "Updated", "timestamp": stamp(),
                        "triggerReason": "MeterValuePeriodic", "seqNo": 1, "transactionInfo": tx,
                        "meterValue": energy(3000),
                    })  # fmt: skip
                    assert updated[0] == 3
                    ended = await st.call("TransactionEvent", {
                        "eventType": "Ended", "timestamp": stamp(),
                        "triggerReason": "StopAuthorized", "seqNo": 2,
                        "transactionInfo": {**tx, "stoppedReason": "Local"},
                        "meterValue": energy(5000),
                    })  # fmt: skip
                    assert ended[0] == 3
                    await asyncio.wait_for(ready.wait(), 5)
                    cs = systems[-1]
                    # A 1.6 command reaches the station as its 2.0.1 equivalent.
                    reset = asyncio.create_task(cs.call(call16.Reset(type="Soft")))
                    command = orjson.loads(await asyncio.wait_for(ws.recv(), 10))
                    await ws.send(orjson.dumps([3, command[1], {"status": "Accepted"}]).decode())
                    reset_answer = await asyncio.wait_for(reset, 10)
                    result = {"reset": reset_answer.status}
            finally:
                await bridge.stop()
        return cs, st, command, result

    cs, station, command, result = asyncio.run(main())
    actions = [a for a, _ in cs.seen]
    assert actions[:2] == ["BootNotification", "StatusNotification"]
    starts = [p for a, p in cs.seen if a == "StartTransaction"]
    stops = [p for a, p in cs.seen if a == "StopTransaction"]
    assert len(starts) == 1 and len(stops) == 1
    assert starts[0]["meter_start"] == 1000 and starts[0]["id_tag"] == "TAG1"
    assert stops[0]["meter_stop"] == 5000 and stops[0]["transaction_id"] == TX_ID
    assert stops[0].get("reason", "Local") == "Local"
    meters = [p for a, p in cs.seen if a == "MeterValues"]
    assert meters and all(p["transaction_id"] == TX_ID for p in meters)
    assert station.invalid == []
    assert command[0] == 2 and command[2] == "Reset" and command[3]["type"] == "OnIdle"
    assert result == {"reset": "Accepted"}


def boot_payload() -> dict[str, Any]:
    return {"chargingStation": {"model": "M", "vendorName": "V"}, "reason": "PowerUp"}


def event(kind: str, seq: int, wh: float, **extra: Any) -> dict[str, Any]:
    return {
        "eventType": kind,
        "timestamp": stamp(),
        "seqNo": seq,
        "transactionInfo": {"transactionId": "tx-k9", **extra.pop("info", {})},
        "meterValue": energy(wh),
        **extra,
    }


async def retry_call(url: str, action: str, payload: dict[str, Any]) -> list[Any]:
    """Reconnect and send until answered (the station's own retry), bounded."""
    for _ in range(40):
        try:
            async with websockets.connect(url, subprotocols=["ocpp2.0.1"]) as ws:
                return await Station201(ws).call(action, payload)
        except (OSError, websockets.exceptions.WebSocketException, TimeoutError):
            await asyncio.sleep(0.25)
    raise AssertionError(f"{action} never answered")


def test_kill_9_of_the_reverse_bridge_mid_call_loses_and_doubles_no_transaction(
    tmp_path: Path,
) -> None:
    async def main() -> list[CentralSystem16]:
        systems: list[CentralSystem16] = []
        slow = {"meter": 0.0}

        async def on_connect(ws: Any) -> None:
            cs = CentralSystem16(ws.request.path.rsplit("/", 1)[-1], ws, slow["meter"])
            systems.append(cs)
            await cs.start()

        async with websockets.serve(on_connect, "127.0.0.1", 0, subprotocols=["ocpp1.6"]) as srv:
            port = srv.sockets[0].getsockname()[1]
            bridge = BridgeProcess(
                f"ws://127.0.0.1:{port}/ocpp", tmp_path / "b.db", tmp_path / "journal",
                "--upstream-version", "1.6",
            )  # fmt: skip
            await bridge.start()
            url = f"{bridge.url}/STK"
            async with websockets.connect(url, subprotocols=["ocpp2.0.1"]) as ws:
                st = Station201(ws)
                assert (await st.call("BootNotification", boot_payload()))[0] == 3
                started = event("Started", 0, 1000, triggerReason="Authorized",
                                idToken={"idToken": "TAG1", "type": "ISO14443"},
                                evse={"id": 1, "connectorId": 1})  # fmt: skip
                assert (await st.call("TransactionEvent", started))[0] == 3
                # The CSMS is slow with the next one; the bridge dies with it in flight.
                for cs in systems:
                    cs.slow_meter = 3.0
                update = event("Updated", 1, 3000, triggerReason="MeterValuePeriodic")
                in_flight = asyncio.create_task(st.call("TransactionEvent", update))
                await asyncio.sleep(0.8)
                bridge.kill()
                await bridge.wait_killed()
                in_flight.cancel()
            for cs in systems:
                cs.slow_meter = 0.0
            slow["meter"] = 0.0
            await bridge.start()
            # The station never got its answer: it sends the event again, then the end.
            assert (await retry_call(url, "TransactionEvent", update))[0] == 3
            ended = event("Ended", 2, 5000, triggerReason="StopAuthorized",
                          info={"stoppedReason": "Local"})  # fmt: skip
            assert (await retry_call(url, "TransactionEvent", ended))[0] == 3
            assert await bridge.terminate() == 0
            await asyncio.sleep(0)  # let the CSMS record what it answered
        assert "resuming_outbox" in bridge.log_text()
        return systems

    systems = asyncio.run(main())
    seen = [item for cs in systems for item in cs.seen]
    starts = [p for a, p in seen if a == "StartTransaction"]
    stops = [p for a, p in seen if a == "StopTransaction"]
    assert len(starts) == 1 and starts[0]["meter_start"] == 1000
    assert len(stops) == 1 and stops[0]["transaction_id"] == TX_ID
    assert stops[0]["meter_stop"] == 5000
    meters = [p for a, p in seen if a == "MeterValues"]
    assert meters and all(p["transaction_id"] == TX_ID for p in meters)


def test_a_csms_cut_during_a_reverse_session_loses_and_doubles_nothing(tmp_path: Path) -> None:
    async def main() -> list[CentralSystem16]:
        systems: list[CentralSystem16] = []

        async def on_connect(ws: Any) -> None:
            cs = CentralSystem16(ws.request.path.rsplit("/", 1)[-1], ws)
            systems.append(cs)
            await cs.start()

        srv = await websockets.serve(on_connect, "127.0.0.1", 0, subprotocols=["ocpp1.6"])
        port = srv.sockets[0].getsockname()[1]
        cfg = bridge_config(
            f"ws://127.0.0.1:{port}/ocpp", tmp_path, upstream_version="1.6", backoff_max=0.5,
            connect_timeout=2,
        )  # fmt: skip
        bridge = Bridge(cfg)
        await bridge.start()
        url = f"ws://127.0.0.1:{bridge.port}/ocpp/STC"
        try:
            assert (await retry_call(url, "BootNotification", boot_payload()))[0] == 3
            started = event("Started", 0, 2000, triggerReason="Authorized",
                            idToken={"idToken": "TAG1", "type": "ISO14443"},
                            evse={"id": 1, "connectorId": 1})  # fmt: skip
            assert (await retry_call(url, "TransactionEvent", started))[0] == 3
            srv.close()  # the CSMS goes away mid-session
            await srv.wait_closed()
            srv = await websockets.serve(on_connect, "127.0.0.1", port, subprotocols=["ocpp1.6"])
            update = event("Updated", 1, 4000, triggerReason="MeterValuePeriodic")
            assert (await retry_call(url, "TransactionEvent", update))[0] == 3
            ended = event("Ended", 2, 6000, triggerReason="StopAuthorized",
                          info={"stoppedReason": "Local"})  # fmt: skip
            assert (await retry_call(url, "TransactionEvent", ended))[0] == 3
        finally:
            await bridge.stop()
            srv.close()
            await srv.wait_closed()
        return systems

    systems = asyncio.run(main())
    seen = [item for cs in systems for item in cs.seen]
    starts = [p for a, p in seen if a == "StartTransaction"]
    stops = [p for a, p in seen if a == "StopTransaction"]
    assert len(systems) >= 2  # it really reconnected
    assert len(starts) == 1 and starts[0]["meter_start"] == 2000
    assert len(stops) == 1 and stops[0]["transaction_id"] == TX_ID
    assert stops[0]["meter_stop"] == 6000
