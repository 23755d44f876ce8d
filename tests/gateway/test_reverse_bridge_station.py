"""The reverse bridge end to end with real processes: a strict 2.0.1 station (the ``ocpp``
package's v201 classes) through ``ocppkit bridge --upstream-version 1.6`` (a child process)
to a strict 1.6 central system (the ``ocpp`` package's v16 classes).

Both peers validate every payload themselves and every frame they receive is checked again
with ocppkit's strict validator (:mod:`tests.gateway.reverse_peers`). Every wait is bounded.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import websockets
from ocpp.exceptions import OCPPError
from ocpp.v16 import call as call16

from tests.gateway.harness import BridgeProcess
from tests.gateway.reverse_peers import (
    EVSE,
    FIRST_TX_ID,
    TAG,
    CentralSystem16,
    Station201,
    minter,
    plug_in_first_session,
    spawn,
)

pytestmark = pytest.mark.timeout(90)
REMOTE_TAG = "TAG-REMOTE"


class Csms:
    """A websockets server hosting one :class:`CentralSystem16` per connection."""

    def __init__(self) -> None:
        self.systems: list[CentralSystem16] = []
        self.connected = asyncio.Event()
        self.issued: list[int] = []
        counter = minter()

        def mint() -> int:
            self.issued.append(counter())
            return self.issued[-1]

        self.mint = mint
        self.server: Any = None
        self.port = 0

    async def _on_connect(self, ws: Any) -> None:
        cs = CentralSystem16(ws.request.path.rsplit("/", 1)[-1], ws, self.mint)
        self.systems.append(cs)
        self.connected.set()
        try:
            await cs.start()
        except websockets.exceptions.ConnectionClosed:
            return

    async def serve(self) -> None:
        self.server = await websockets.serve(
            self._on_connect, "127.0.0.1", self.port, subprotocols=["ocpp1.6"]
        )
        self.port = self.server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        self.server.close()
        await self.server.wait_closed()
        self.connected.clear()

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ocpp"

    @property
    def latest(self) -> CentralSystem16:
        return self.systems[-1]

    def seen(self, action: str | None = None) -> list[tuple[str, dict[str, Any]]]:
        every = [item for cs in self.systems for item in cs.seen]
        return [item for item in every if action is None or item[0] == action]

    def payloads(self, action: str) -> list[dict[str, Any]]:
        return [p for _, p in self.seen(action)]

    def violations(self) -> list[str]:
        return [v for cs in self.systems for v in cs.audit.violations]


def register_readings(meter_values: list[dict[str, Any]]) -> list[tuple[Decimal, str]]:
    """The 1.6 energy register samples as (Wh, context)."""
    scale = {"Wh": 0, "kWh": 3}
    return [
        (Decimal(s["value"]).scaleb(scale[s.get("unit", "Wh")]), s.get("context", ""))
        for mv in meter_values
        for s in mv["sampled_value"]
        if s.get("measurand", "Energy.Active.Import.Register") == "Energy.Active.Import.Register"
    ]


def test_a_strict_201_station_through_the_reverse_bridge_process_on_a_strict_16_csms(
    tmp_path: Path,
) -> None:
    async def main() -> tuple[Csms, Station201, dict[str, Any]]:
        csms = Csms()
        await csms.serve()
        bridge = BridgeProcess(csms.url, tmp_path / "b.db", tmp_path / "journal",
                               "--upstream-version", "1.6")  # fmt: skip
        await bridge.start()
        out: dict[str, Any] = {}
        try:
            async with websockets.connect(f"{bridge.url}/ST-E2E", subprotocols=["ocpp2.0.1"]) as ws:
                assert ws.subprotocol == "ocpp2.0.1"
                st = Station201("ST-E2E", ws)
                loop = spawn(st)
                out["boot"] = (await st.boot()).status
                await st.status("Available")
                out["plug"] = await plug_in_first_session(
                    st, "tx-plug", lambda: len(csms.payloads("StartTransaction"))
                )
                await asyncio.wait_for(csms.connected.wait(), 5)
                cs = csms.latest

                # A remote-started session, stopped remotely.
                remote = await cs.call(
                    call16.RemoteStartTransaction(id_tag=REMOTE_TAG, connector_id=1)
                )
                out["remote_start"] = remote.status
                request = st.got("RequestStartTransaction")[-1]
                await st.status("Occupied")
                await st.event(
                    "Started", "tx-remote", "RemoteStart", 15.5, "Transaction.Begin",
                    info={"chargingState": "Charging",
                          "remoteStartId": request["remote_start_id"]},
                    evse=EVSE, id_token={"idToken": REMOTE_TAG, "type": "Central"},
                )  # fmt: skip
                await st.event("Updated", "tx-remote", "MeterValuePeriodic", 16.0)
                minted = csms.payloads("StartTransaction")[-1]
                out["remote_id16"] = csms.issued[-1]  # what the CSMS minted for it
                stop = await cs.call(
                    call16.RemoteStopTransaction(transaction_id=out["remote_id16"])
                )
                out["remote_stop"] = stop.status
                await st.event(
                    "Ended", "tx-remote", "RemoteStop", 17.25, "Transaction.End",
                    info={"chargingState": "EVConnected", "stoppedReason": "Remote"},
                )  # fmt: skip
                await st.status("Available")
                out["remote_start_payload"] = minted

                # The 1.6 CSMS's commands.
                answers: dict[str, Any] = {}
                answers["GetConfiguration"] = await cs.call(
                    call16.GetConfiguration(key=["HeartbeatInterval", "NoSuchKey"])
                )
                answers["ChangeConfiguration"] = await cs.call(
                    call16.ChangeConfiguration(key="HeartbeatInterval", value="120")
                )
                answers["GetConfiguration again"] = await cs.call(
                    call16.GetConfiguration(key=["HeartbeatInterval"])
                )
                answers["GetConfiguration all"] = await cs.call(call16.GetConfiguration())
                answers["TriggerMessage"] = await cs.call(
                    call16.TriggerMessage(requested_message="StatusNotification", connector_id=1)
                )
                await st.status("Available")  # what the trigger asked for
                answers["UnlockConnector"] = await cs.call(call16.UnlockConnector(connector_id=1))
                answers["Reset"] = await cs.call(call16.Reset(type="Hard"))
                out["answers"] = answers
                await ws.close()
                loop.cancel()
        finally:
            assert await bridge.terminate() == 0
            await csms.close()
        return csms, st, out

    csms, st, out = asyncio.run(main())
    assert out["boot"] == "Accepted"

    # Zero schema violations (and no CALLERROR) on either side.
    assert st.audit.violations == [] and csms.violations() == []
    assert st.audit.frames > 0 and sum(cs.audit.frames for cs in csms.systems) > 0

    starts = csms.payloads("StartTransaction")
    stops = csms.payloads("StopTransaction")
    assert len(starts) == 2 and len(stops) == 2
    plug_id, remote_id = FIRST_TX_ID, FIRST_TX_ID + 1

    # Plug-in-first: no StartTransaction before the idToken; then one, with the station's
    # register at plug-in (12.345 kWh = 12345 Wh), and the earlier event's reading kept.
    plug = out["plug"]
    assert plug["start_before_authorisation"] == 0
    assert plug["started"].id_token_info is None
    assert plug["authorized"].id_token_info == {"status": "Accepted"}
    assert starts[0]["id_tag"] == "TAG-PLUG" and starts[0]["connector_id"] == 1
    assert starts[0]["meter_start"] == 12345
    plug_meters = [p for p in csms.payloads("MeterValues") if p.get("transaction_id") == plug_id]
    readings = [r for p in plug_meters for r in register_readings(p["meter_value"])]
    assert (Decimal(12345), "Transaction.Begin") in readings
    assert [wh for wh, ctx in readings if ctx == "Sample.Periodic"] == [13500, 14750]
    actions = [a for a, _ in csms.seen()]
    assert actions.index("StartTransaction") < actions.index("MeterValues")
    assert stops[0]["transaction_id"] == plug_id and stops[0]["meter_stop"] == 15500
    assert stops[0]["reason"] == "EVDisconnected"  # the translator's table: same name in 1.6

    # Remote start / remote stop.
    assert out["remote_start"] == "Accepted" and out["remote_stop"] == "Accepted"
    request = st.got("RequestStartTransaction")[0]
    assert request["id_token"] == {"id_token": REMOTE_TAG, "type": "Central"}
    assert request["evse_id"] == 1
    assert out["remote_id16"] == remote_id
    assert st.got("RequestStopTransaction") == [{"transaction_id": "tx-remote"}]
    assert starts[1]["id_tag"] == REMOTE_TAG and starts[1]["meter_start"] == 15500
    assert stops[1]["transaction_id"] == remote_id and stops[1]["meter_stop"] == 17250
    assert stops[1]["reason"] == "Remote"
    ids = {p["transaction_id"] for p in csms.payloads("MeterValues")}
    assert ids == {plug_id, remote_id}

    # The commands reached the station as their 2.0.1 forms, the answers came back.
    answers = out["answers"]
    first = answers["GetConfiguration"]
    assert first.configuration_key == [{"key": "HeartbeatInterval", "readonly": False,
                                        "value": "300"}]  # fmt: skip
    assert first.unknown_key == ["NoSuchKey"]
    assert answers["ChangeConfiguration"].status == "Accepted"
    assert answers["GetConfiguration again"].configuration_key[0]["value"] == "120"
    every = {k["key"]: k.get("value") for k in answers["GetConfiguration all"].configuration_key}
    assert every == {"HeartbeatInterval": "120", "MeterValueSampleInterval": "60"}
    assert answers["TriggerMessage"].status == "Accepted"
    assert answers["UnlockConnector"].status == "Unlocked"
    assert answers["Reset"].status == "Accepted"
    got = [a for a, _ in st.received]
    for action in ("GetVariables", "SetVariables", "TriggerMessage", "UnlockConnector", "Reset"):
        assert action in got, got
    assert st.got("SetVariables")[0]["set_variable_data"] == [{
        "attribute_value": "120", "component": {"name": "OCPPCommCtrlr"},
        "variable": {"name": "HeartbeatInterval"},
    }]  # fmt: skip
    assert st.got("TriggerMessage") == [
        {"requested_message": "StatusNotification", "evse": {"id": 1, "connector_id": 1}}
    ]
    assert st.got("UnlockConnector") == [{"evse_id": 1, "connector_id": 1}]
    assert st.got("Reset") == [{"type": "Immediate"}]


async def until_answered(
    url: str, send: Callable[[Station201], Awaitable[Any]], tries: int = 60
) -> tuple[Any, int]:
    """The station's own retry: (re)connect and send until answered with a CALLRESULT.

    Returns the answer and how many attempts were refused (CALLERROR) or cut. Bounded.
    """
    refused = 0
    for _ in range(tries):
        try:
            async with websockets.connect(url, subprotocols=["ocpp2.0.1"]) as ws:
                st = Station201(url.rsplit("/", 1)[-1], ws)
                loop = spawn(st)
                try:
                    return await send(st), refused
                finally:
                    loop.cancel()
        except (OSError, OCPPError, TimeoutError, websockets.exceptions.WebSocketException):
            refused += 1
            await asyncio.sleep(0.25)
    raise AssertionError(f"never answered after {tries} attempts")


class Sessions:
    """One plug-in-first transaction's events sent one by one, each retried until answered."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.seq = 0
        self.refused = 0

    async def event(self, kind: str, trigger: str, kwh: float | None = None,
                    context: str = "Sample.Periodic", **extra: Any) -> Any:  # fmt: skip
        seq = self.seq

        async def send(st: Station201) -> Any:
            st._seq["tx-fault"] = seq - 1  # the same seqNo on every retry
            return await st.event(kind, "tx-fault", trigger, kwh, context, **dict(extra))

        answer, refused = await until_answered(self.url, send)
        self.seq += 1
        self.refused += refused
        return answer


def assert_one_plug_in_first_transaction(csms: Csms, start_wh: int, stop_wh: int) -> None:
    starts = csms.payloads("StartTransaction")
    stops = csms.payloads("StopTransaction")
    assert len(starts) == 1 and starts[0]["meter_start"] == start_wh
    assert starts[0]["id_tag"] == "TAG-PLUG"
    assert len(stops) == 1 and stops[0]["meter_stop"] == stop_wh
    assert stops[0]["transaction_id"] == FIRST_TX_ID and stops[0]["reason"] == "EVDisconnected"
    meters = csms.payloads("MeterValues")
    assert meters and all(p["transaction_id"] == FIRST_TX_ID for p in meters)
    readings = [r for p in meters for r in register_readings(p["meter_value"])]
    # The reading of the event sent before authorisation (and before the fault) is kept.
    assert (Decimal(start_wh), "Transaction.Begin") in readings
    assert csms.violations() == []


def test_kill_9_of_the_reverse_bridge_before_authorisation_keeps_the_buffered_start(
    tmp_path: Path,
) -> None:
    async def main() -> Csms:
        csms = Csms()
        await csms.serve()
        bridge = BridgeProcess(csms.url, tmp_path / "b.db", tmp_path / "journal",
                               "--upstream-version", "1.6")  # fmt: skip
        await bridge.start()
        url = f"{bridge.url}/ST-K9"
        tx = Sessions(url)
        try:
            await until_answered(url, lambda st: st.boot())
            # Cable first: the event is kept by the bridge (answered locally), not yet sent.
            await tx.event("Started", "CablePluggedIn", 2.0, "Transaction.Begin",
                           info={"chargingState": "EVConnected"}, evse=EVSE)  # fmt: skip
            bridge.kill()
            await bridge.wait_killed()
            await bridge.start()
            url = tx.url = f"{bridge.url}/ST-K9"
            await tx.event("Updated", "Authorized", info={"chargingState": "Charging"},
                           id_token=TAG)  # fmt: skip
            await tx.event("Updated", "MeterValuePeriodic", 3.5)
            await tx.event("Ended", "EVCommunicationLost", 4.25, "Transaction.End",
                           info={"stoppedReason": "EVDisconnected"})  # fmt: skip
        finally:
            assert await bridge.terminate() == 0
            await csms.close()
        return csms

    csms = asyncio.run(main())
    assert_one_plug_in_first_transaction(csms, 2000, 4250)
    assert len(csms.systems) >= 2  # the killed bridge really came back upstream


def test_a_csms_cut_during_a_plug_in_first_session_loses_and_doubles_nothing(
    tmp_path: Path,
) -> None:
    async def main() -> Csms:
        csms = Csms()
        await csms.serve()
        bridge = BridgeProcess(csms.url, tmp_path / "b.db", tmp_path / "journal",
                               "--upstream-version", "1.6")  # fmt: skip
        await bridge.start()
        url = f"{bridge.url}/ST-CUT"
        tx = Sessions(url)
        try:
            await until_answered(url, lambda st: st.boot())
            await tx.event("Started", "CablePluggedIn", 7.0, "Transaction.Begin",
                           info={"chargingState": "EVConnected"}, evse=EVSE)  # fmt: skip
            await csms.close()  # the CSMS goes away; authorisation happens meanwhile
            authorise = tx.event(
                "Updated", "Authorized", info={"chargingState": "Charging"}, id_token=TAG
            )
            authorised = asyncio.create_task(authorise)
            await asyncio.sleep(1.5)
            await csms.serve()  # back on the same port
            await asyncio.wait_for(authorised, 60)
            await tx.event("Updated", "MeterValuePeriodic", 8.5)
            await tx.event("Ended", "EVCommunicationLost", 9.0, "Transaction.End",
                           info={"stoppedReason": "EVDisconnected"})  # fmt: skip
        finally:
            assert await bridge.terminate() == 0
            await csms.close()
        return csms

    csms = asyncio.run(main())
    assert len(csms.systems) >= 2  # it really reconnected
    assert_one_plug_in_first_transaction(csms, 7000, 9000)
