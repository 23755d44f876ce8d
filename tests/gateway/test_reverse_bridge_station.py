"""The reverse bridge end to end with real processes: a strict 2.0.1 station (the ``ocpp``
package's v201 classes) through ``ocppkit bridge --upstream-version 1.6`` (a child process)
to a strict 1.6 central system (the ``ocpp`` package's v16 classes).

Both peers validate every payload themselves and every frame they receive is checked again
with ocppkit's strict validator (:mod:`tests.gateway.reverse_peers`). Every wait is bounded.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import websockets
from ocpp.v16 import call as call16
from ocpp.v201 import call as call201

from tests.gateway.harness import BridgeProcess
from tests.gateway.reverse_peers import (
    FIRST_TX_ID,
    CentralSystem16,
    Station201,
    minter,
    spawn,
)

pytestmark = pytest.mark.timeout(90)
TAG = {"idToken": "TAG-PLUG", "type": "ISO14443"}
REMOTE_TAG = "TAG-REMOTE"
EVSE = {"id": 1, "connectorId": 1}


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


async def plug_in_first_session(st: Station201, csms: Csms, tx: str) -> dict[str, Any]:
    """E02: cable first, then authorisation; energy in kWh. Returns what the station got."""
    got: dict[str, Any] = {}
    await st.status("Occupied")
    got["started"] = await st.event(
        "Started", tx, "CablePluggedIn", 12.345, "Transaction.Begin",
        info={"chargingState": "EVConnected"}, evse=EVSE,
    )  # fmt: skip
    # A round trip through the CSMS: a StartTransaction sent before it would be seen by now.
    await st.call(call201.Heartbeat())
    got["start_before_authorisation"] = len(csms.payloads("StartTransaction"))
    assert (await st.call(call201.Authorize(id_token=TAG))).id_token_info["status"] == "Accepted"
    got["authorized"] = await st.event(
        "Updated", tx, "Authorized", info={"chargingState": "Charging"}, id_token=TAG
    )
    for kwh in (13.5, 14.75):
        await st.event("Updated", tx, "MeterValuePeriodic", kwh)
    got["ended"] = await st.event(
        "Ended", tx, "EVCommunicationLost", 15.5, "Transaction.End",
        info={"chargingState": "Idle", "stoppedReason": "EVDisconnected"},
    )  # fmt: skip
    await st.status("Available")
    return got


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
                out["plug"] = await plug_in_first_session(st, csms, "tx-plug")
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
