"""End to end: a 1.6J charger (``ocpp`` package) -> the bridge -> a strict 2.0.1 CSMS.

The CSMS (ocppkit.toolkit.csms) validates every frame strictly and refuses concurrent
calls; the ``ocpp`` package re-checks every journaled frame as a second,
independent oracle. Energy and transaction ids must agree on both sides.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest
from ocpp.v16 import call as call16

from ocppkit.toolkit.csms import Csms, CsmsSettings
from ocppkit.toolkit.gateway.config import BridgeConfig
from ocppkit.toolkit.gateway.server import Bridge
from ocppkit.toolkit.journal_writer import JournalWriter
from ocppkit.translators.journal import Leg
from tests.gateway.harness import (
    ChargerBehaviour,
    connected,
    journal_records,
    lib_violations,
    now,
)

pytestmark = pytest.mark.timeout(60)

CP = "CP-E2E"
TOKEN = {"idToken": "TAG-REMOTE", "type": "ISO14443"}


def bridge_config(upstream: str, tmp: Path, **extra: Any) -> BridgeConfig:
    settings: dict[str, Any] = {
        "upstream": upstream,
        "listen": "127.0.0.1:0",
        "state": str(tmp / "bridge.db"),
        "journal": str(tmp / "journal"),
        "call_timeout": 5,
        "connect_timeout": 5,
        "upstream_grace": 1,
    }
    return BridgeConfig(**{**settings, **extra}).check()


async def local_session(ch: Any, tx_tag: str, start_wh: int) -> int:
    """Authorize, start, three periodic samples; returns the 1.6 transaction id."""
    auth = await ch.call(call16.Authorize(id_tag=tx_tag))
    assert auth.id_tag_info["status"] == "Accepted"
    await ch.status(1, "Preparing")
    start = await ch.call(
        call16.StartTransaction(connector_id=1, id_tag=tx_tag, meter_start=start_wh,
                                timestamp=now())
    )  # fmt: skip
    assert start.id_tag_info["status"] == "Accepted"
    await ch.status(1, "Charging")
    for step in (1, 2, 3):
        await ch.meter(1, start.transaction_id, start_wh + 500 * step)
    # What real chargers also send mid-transaction: transactionId 0, or none.
    for odd_id in (0, None):
        await ch.meter(1, odd_id, start_wh + 1600)
    return int(start.transaction_id)


async def scenario(tmp: Path) -> tuple[Csms, Bridge, ChargerBehaviour, dict[str, Any]]:
    seen: dict[str, Any] = {}
    behaviour = ChargerBehaviour()
    csms_journal = JournalWriter(tmp / "csms-journal")
    csms = Csms(CsmsSettings(strict_one_call=True, call_timeout=10), journal=csms_journal)
    await csms.start()
    bridge = Bridge(bridge_config(csms.url, tmp))
    await bridge.start()
    url = f"ws://127.0.0.1:{bridge.port}/ocpp"
    try:
        async with connected(url, CP, behaviour) as ch:
            boot = await ch.boot()
            assert boot.status == "Accepted"
            await ch.status(0, "Available")
            await ch.status(1, "Available")

            # -- a locally started session ------------------------------------
            tx1 = await local_session(ch, "TAG-LOCAL", 1000)
            await ch.status(1, "Finishing")  # real chargers report it before the Stop
            await ch.call(
                call16.StopTransaction(transaction_id=tx1, meter_stop=3000, timestamp=now(),
                                       id_tag="TAG-LOCAL", reason="Local")
            )  # fmt: skip
            await ch.meter(1, tx1, 3000)  # a periodic sample racing the Stop
            await ch.status(1, "Available")
            seen["tx1"] = tx1

            # -- CSMS-initiated commands --------------------------------------
            got = await csms.call(CP, "GetVariables", {"getVariableData": [
                {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}
            ]})  # fmt: skip
            seen["GetVariables"] = got
            got = await csms.call(CP, "SetVariables", {"setVariableData": [
                {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"},
                 "attributeValue": "120"}
            ]})  # fmt: skip
            seen["SetVariables"] = got
            seen["TriggerMessage"] = await csms.call(CP, "TriggerMessage", {
                "requestedMessage": "StatusNotification", "evse": {"id": 1, "connectorId": 1}
            })  # fmt: skip
            await ch.status(1, "Available")  # what the trigger asked for
            seen["SetChargingProfile"] = await csms.call(CP, "SetChargingProfile", {
                "evseId": 1,
                "chargingProfile": {
                    "id": 11, "stackLevel": 0, "chargingProfilePurpose": "TxDefaultProfile",
                    "chargingProfileKind": "Relative",
                    "chargingSchedule": [{"id": 1, "chargingRateUnit": "A",
                                          "chargingSchedulePeriod": [{"startPeriod": 0,
                                                                      "limit": 16.0}]}],
                },
            })  # fmt: skip

            # -- a remotely started and stopped session --------------------------
            seen["RequestStart"] = await csms.call(CP, "RequestStartTransaction", {
                "idToken": TOKEN, "remoteStartId": 77, "evseId": 1})  # fmt: skip
            tx2 = await local_session(ch, TOKEN["idToken"], 3000)
            id201 = next(
                t.transaction_id for t in csms.transactions.values() if t.id_token == "TAG-REMOTE"
            )
            seen["RequestStop"] = await csms.call(CP, "RequestStopTransaction",
                                                  {"transactionId": id201})  # fmt: skip
            await ch.call(
                call16.StopTransaction(transaction_id=tx2, meter_stop=4500, timestamp=now(),
                                       reason="Remote")
            )  # fmt: skip
            await ch.status(1, "Available")
            seen["tx2"] = tx2
            seen["Reset"] = await csms.call(CP, "Reset", {"type": "Immediate"})
            # The metrics endpoint answers while chargers are connected.
            seen["healthz"] = bridge.metrics.value("ocppkit_bridge_connected_chargers")
            state = bridge.sessions[CP].state
            seen["state"] = state.to_dict()
            seen["state_as_stored"] = orjson.loads(orjson.dumps(state))
    finally:
        await bridge.stop()
        await csms.stop()
        csms_journal.close()
    return csms, bridge, behaviour, seen


def test_a_charger_session_and_every_command_cross_the_bridge_valid_and_consistent(
    tmp_path: Path,
) -> None:
    csms, bridge, behaviour, seen = asyncio.run(scenario(tmp_path))

    # Zero schema violations upstream (strict CSMS) ...
    assert csms.violations == 0, csms.violation_log
    assert csms.internal_errors == []
    # ... one call at a time ...
    assert csms.stations[CP].concurrent_calls == 0
    # ... and our own check of every translated frame agrees.
    text = bridge.metrics.render()
    assert "ocppkit_bridge_schema_violations_total{" not in text
    assert seen["healthz"] == 1

    # What the bridge stores is exactly the translator's own to_dict().
    assert seen["state_as_stored"] == seen["state"]
    assert all(tx["ended"] for tx in seen["state"]["transactions"].values())

    # Both transactions exist once, ended, with the 1.6 energy.
    txs = list(csms.transactions.values())
    assert len(txs) == 2, txs
    by_token = {t.id_token: t for t in txs}
    local, remote = by_token["TAG-LOCAL"], by_token["TAG-REMOTE"]
    assert local.ended and remote.ended
    assert local.energy_wh == Decimal(2000)  # 1000 Wh -> 3000 Wh
    assert remote.energy_wh == Decimal(1500)  # 3000 Wh -> 4500 Wh
    assert local.duplicates == 0 and remote.duplicates == 0
    for tx in txs:
        assert tx.seq_nos == sorted(tx.seq_nos) and tx.seq_nos[0] == 0
    assert seen["tx1"] != seen["tx2"]

    # The commands reached the charger as their 1.6 forms, and came back.
    actions = [a for a, _ in behaviour.received]
    for expected in ("GetConfiguration", "ChangeConfiguration", "TriggerMessage",
                     "SetChargingProfile", "RemoteStartTransaction", "RemoteStopTransaction",
                     "Reset"):  # fmt: skip
        assert expected in actions, actions
    assert dict(behaviour.received)["RemoteStopTransaction"]["transaction_id"] == seen["tx2"]
    assert behaviour.config["HeartbeatInterval"] == "120"
    value = seen["GetVariables"]["getVariableResult"][0]
    assert (value["attributeStatus"], value["attributeValue"]) == ("Accepted", "300")
    assert seen["SetVariables"]["setVariableResult"][0]["attributeStatus"] == "Accepted"
    for name in ("TriggerMessage", "SetChargingProfile", "RequestStart", "RequestStop", "Reset"):
        assert seen[name]["status"] == "Accepted", (name, seen[name])

    # Second oracle: the ocpp package's validation of every journaled frame.
    records = journal_records(tmp_path / "journal")
    assert {r.leg for r in records} == {Leg.UPSTREAM, Leg.DOWNSTREAM}
    assert lib_violations(records, "2.0.1") == []
    assert lib_violations(records, "1.6") == []
