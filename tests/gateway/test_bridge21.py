"""OCPP 2.1 end to end with real processes: a 1.6J charger (the ``ocpp`` package's v16)
through ``ocppkit bridge --upstream-version 2.1`` to a strict 2.1 CSMS (its v21 classes),
and a strict 2.1 station (v21) through ``ocppkit bridge`` onto a strict 2.0.1 CSMS (v201).

Each peer validates every payload itself; every frame it receives is checked again with
ocppkit's strict validator (:mod:`tests.gateway.reverse_peers`), and the journal once more
with the ``ocpp`` package's own check. Every wait is bounded.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import websockets
from ocpp.v16 import call as call16
from ocpp.v21 import call as call21
from ocpp.v201 import call as call201

from tests.gateway.harness import (
    BridgeProcess,
    ChargerBehaviour,
    connected,
    journal_records,
    lib_violations,
    now,
)
from tests.gateway.reverse_peers import (
    EVSE,
    TAG,
    CentralSystem21,
    CentralSystem201,
    Station21,
    plug_in_first_session,
    spawn,
)

pytestmark = pytest.mark.timeout(90)
REMOTE_TAG = "TAG-REMOTE"


class Csms:
    """A websockets server hosting one strict CSMS (2.0.1 or 2.1) per connection."""

    def __init__(self, kind: type[CentralSystem201]) -> None:
        self.kind = kind
        self.systems: list[CentralSystem201] = []
        self.connected = asyncio.Event()
        self.server: Any = None
        self.port = 0

    async def _on_connect(self, ws: Any) -> None:
        cs = self.kind(ws.request.path.rsplit("/", 1)[-1], ws)
        self.systems.append(cs)
        self.connected.set()
        try:
            await cs.start()
        except websockets.exceptions.ConnectionClosed:
            return

    async def serve(self) -> None:
        protocol = self.kind.version.subprotocol or ""
        self.server = await websockets.serve(
            self._on_connect, "127.0.0.1", 0, subprotocols=[protocol]
        )
        self.port = self.server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        self.server.close()
        await self.server.wait_closed()

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ocpp"

    def payloads(self, action: str) -> list[dict[str, Any]]:
        return [p for cs in self.systems for p in cs.payloads(action)]

    def violations(self) -> list[str]:
        return [v for cs in self.systems for v in cs.audit.violations]


def test_a_16_charger_through_the_bridge_process_on_a_strict_21_csms(tmp_path: Path) -> None:
    async def main() -> tuple[Csms, ChargerBehaviour, dict[str, Any], BridgeProcess]:
        csms = Csms(CentralSystem21)
        await csms.serve()
        bridge = BridgeProcess(csms.url, tmp_path / "b.db", tmp_path / "journal",
                               "--upstream-version", "2.1")  # fmt: skip
        await bridge.start()
        behaviour = ChargerBehaviour()
        out: dict[str, Any] = {}
        try:
            async with connected(bridge.url, "CP16", behaviour) as ch:
                out["boot"] = (await ch.boot()).status
                await ch.status(1, "Available")
                # A local session.
                auth = await ch.call(call16.Authorize(id_tag="TAG-LOCAL"))
                out["auth"] = auth.id_tag_info["status"]
                start = await ch.call(call16.StartTransaction(
                    connector_id=1, id_tag="TAG-LOCAL", meter_start=1000, timestamp=now(),
                ))  # fmt: skip
                out["local_tx"] = start.transaction_id
                await ch.status(1, "Charging")
                for wh in (1500, 2000):
                    await ch.meter(1, start.transaction_id, wh)
                await ch.call(call16.StopTransaction(
                    transaction_id=start.transaction_id, meter_stop=2500, timestamp=now(),
                    reason="Local"))  # fmt: skip
                await ch.status(1, "Available")
                await asyncio.wait_for(csms.connected.wait(), 5)
                cs = csms.systems[-1]

                # Remote start / stop from the 2.1 CSMS.
                remote = await cs.call(call21.RequestStartTransaction(
                    id_token={"idToken": REMOTE_TAG, "type": "Central"}, remote_start_id=7,
                    evse_id=1))  # fmt: skip
                out["remote_start"] = remote.status
                started = await ch.call(call16.StartTransaction(
                    connector_id=1, id_tag=REMOTE_TAG, meter_start=2500, timestamp=now(),
                ))  # fmt: skip
                await ch.meter(1, started.transaction_id, 3000)
                remote_tx = next(
                    tx for tx, events in cs.events.items()
                    if events[0]["id_token"]["id_token"] == REMOTE_TAG
                )  # fmt: skip
                stop = await cs.call(call21.RequestStopTransaction(transaction_id=remote_tx))
                out["remote_stop"] = stop.status
                await ch.call(call16.StopTransaction(
                    transaction_id=started.transaction_id, meter_stop=3500, timestamp=now(),
                    reason="Remote"))  # fmt: skip
                out["remote_tx"] = remote_tx

                # Configuration and reset.
                out["get"] = await cs.call(call21.GetVariables(get_variable_data=[
                    {"component": {"name": "OCPPCommCtrlr"},
                     "variable": {"name": "HeartbeatInterval"}}]))  # fmt: skip
                out["set"] = await cs.call(call21.SetVariables(set_variable_data=[
                    {"attributeValue": "120", "component": {"name": "OCPPCommCtrlr"},
                     "variable": {"name": "HeartbeatInterval"}}]))  # fmt: skip
                out["reset"] = await cs.call(call21.Reset(type="Immediate"))
                # 2.1 only: refused with a reason, the charger never asked.
                out["resume"] = await cs.call(call21.Reset(type="ImmediateAndResume"))
                out["tariff"] = await cs.call(call21.GetTariffs(evse_id=1))
        finally:
            assert await bridge.terminate() == 0
            await csms.close()
        return csms, behaviour, out, bridge

    csms, behaviour, out, bridge = asyncio.run(main())
    assert out["boot"] == "Accepted" and out["auth"] == "Accepted"

    # The 2.1 CSMS saw only 2.1-valid frames; its only CALLERRORs are the two refusals.
    refusals = [v for v in csms.violations() if "received CALLERROR NotSupported" in v]
    assert len(refusals) == 2, csms.violations()
    assert [v for v in csms.violations() if v not in refusals] == []
    assert "resume" in refusals[0] or "Immediate" in refusals[0]
    assert "tariff" in refusals[1]
    assert out["resume"] is None and out["tariff"] is None  # answered CALLERROR

    # Sessions: two transactions, Started .. Ended, the meter readings carried.
    events = csms.systems[-1].events
    assert len(events) == 2
    for tx_events in events.values():
        kinds = [e["event_type"] for e in tx_events]
        assert kinds[0] == "Started" and kinds[-1] == "Ended"
    local = next(e for e in events.values() if e[0]["id_token"]["id_token"] == "TAG-LOCAL")
    assert local[-1]["transaction_info"]["stopped_reason"] == "Local"
    remote = events[out["remote_tx"]]
    assert remote[-1]["transaction_info"]["stopped_reason"] == "Remote"
    assert out["remote_start"] == "Accepted" and out["remote_stop"] == "Accepted"
    got = dict(behaviour.received)
    assert got["RemoteStartTransaction"]["id_tag"] == REMOTE_TAG
    assert got["RemoteStopTransaction"]["transaction_id"] == out["local_tx"] + 1

    # Configuration and reset, as their 1.6 forms.
    result = out["get"].get_variable_result[0]
    assert result["attribute_status"] == "Accepted" and result["attribute_value"] == "300"
    assert out["set"].set_variable_result[0]["attribute_status"] == "Accepted"
    assert behaviour.config["HeartbeatInterval"] == "120"
    assert out["reset"].status == "Accepted" and got["Reset"] == {"type": "Hard"}

    # The journal: both legs, each valid in its version for the ocpp package too.
    records = journal_records(Path(bridge.args[bridge.args.index("--journal") + 1]))
    versions = {r.ocpp_version.value for r in records}
    assert versions == {"1.6", "2.1"}
    assert lib_violations(records, "2.1") == [] and lib_violations(records, "1.6") == []
    assert "translated_frame_invalid" not in bridge.log_text()


def test_a_strict_21_station_through_the_bridge_process_on_a_strict_201_csms(
    tmp_path: Path,
) -> None:
    async def main() -> tuple[Csms, Station21, dict[str, Any], BridgeProcess]:
        csms = Csms(CentralSystem201)
        await csms.serve()
        bridge = BridgeProcess(csms.url, tmp_path / "b.db", tmp_path / "journal",
                               "--upstream-version", "2.0.1")  # fmt: skip
        await bridge.start()
        out: dict[str, Any] = {}
        try:
            async with websockets.connect(f"{bridge.url}/ST21", subprotocols=["ocpp2.1"]) as ws:
                assert ws.subprotocol == "ocpp2.1"
                st = Station21("ST21", ws)
                loop = spawn(st)
                out["boot"] = (await st.boot()).status
                await st.status("Available")
                out["plug"] = await plug_in_first_session(st, "tx-21", lambda: 0)
                # 2.1 additions on the way down: a trigger reason and cost details.
                await st.status("Occupied")
                await st.event(
                    "Started", "tx-cost", "Authorized", 20.0, "Transaction.Begin",
                    info={"chargingState": "Charging"}, evse=EVSE, id_token=TAG,
                )  # fmt: skip
                await st.event("Updated", "tx-cost", "RunningCost", 21.0,
                               info={"tariffId": "T1"})  # fmt: skip
                await st.event(
                    "Ended", "tx-cost", "StopAuthorized", 22.0, "Transaction.End",
                    info={"stoppedReason": "ReqEnergyTransferRejected"},
                )  # fmt: skip
                await asyncio.wait_for(csms.connected.wait(), 5)
                cs = csms.systems[-1]
                out["remote"] = await cs.call(call201.RequestStartTransaction(
                    id_token={"idToken": "TAG-R", "type": "Central"}, remote_start_id=3,
                    evse_id=1))  # fmt: skip
                out["get"] = await cs.call(call201.GetVariables(get_variable_data=[
                    {"component": {"name": "OCPPCommCtrlr"},
                     "variable": {"name": "HeartbeatInterval"}}]))  # fmt: skip
                out["reset"] = await cs.call(call201.Reset(type="OnIdle"))
                await ws.close()
                loop.cancel()
        finally:
            assert await bridge.terminate() == 0
            await csms.close()
        return csms, st, out, bridge

    csms, st, out, bridge = asyncio.run(main())
    assert out["boot"] == "Accepted"
    assert st.audit.violations == [] and csms.violations() == []
    assert st.audit.frames > 0 and sum(cs.audit.frames for cs in csms.systems) > 0
    events = csms.systems[-1].events
    assert events["tx-21"][0]["event_type"] == "Started"
    cost = events["tx-cost"]
    assert [e["trigger_reason"] for e in cost] == [
        "Authorized",
        "MeterValuePeriodic",
        "StopAuthorized",
    ]
    assert cost[-1]["transaction_info"]["stopped_reason"] == "Other"
    assert "tariff_id" not in cost[1]["transaction_info"]
    assert out["remote"].status == "Accepted" and out["reset"].status == "Accepted"
    assert out["get"].get_variable_result[0]["attribute_value"] == "300"
    records = journal_records(Path(bridge.args[bridge.args.index("--journal") + 1]))
    assert {r.ocpp_version.value for r in records} == {"2.0.1", "2.1"}
    assert lib_violations(records, "2.1") == [] and lib_violations(records, "2.0.1") == []
    assert "translated_frame_invalid" not in bridge.log_text()
