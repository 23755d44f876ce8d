"""A 1.6J charger (the independent ``ocpp`` package) through ``ocppkit bridge`` to the
independent ocpp-rpc CSMS in strict mode (issue 8, first "Must show" bullet).

The bridge runs as a real process (``python -m ocppkit.toolkit.gateway``, the same command as
``ocppkit bridge``); ocpp-rpc judges every 2.0.1 frame it receives and every answer the
bridge gives to its commands RequestStartTransaction, RequestStopTransaction, GetVariables,
SetVariables, Reset, TriggerMessage and SetChargingProfile.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from ocpp.v16 import call as call16

from tests.oracles.helpers import energy_of, token_of, transactions_seen
from tests.oracles.ocpp_rpc.oracle import OcppRpcOracle

pytestmark = [pytest.mark.timeout(60), pytest.mark.usefixtures("ocpp_rpc_installed")]

CP = "CP-RPC"
REMOTE = {"idToken": "TAG-REMOTE", "type": "ISO14443"}
BRIDGE_COMMANDS: list[tuple[str, dict[str, Any]]] = [
    ("GetVariables", {"getVariableData": [
        {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}]}),
    ("SetVariables", {"setVariableData": [
        {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"},
         "attributeValue": "120"}]}),
    ("TriggerMessage", {"requestedMessage": "StatusNotification",
                        "evse": {"id": 1, "connectorId": 1}}),
    ("SetChargingProfile", {"evseId": 1, "chargingProfile": {
        "id": 11, "stackLevel": 0, "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Relative", "chargingSchedule": [{
            "id": 1, "chargingRateUnit": "A",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0}]}]}}),
    ("RequestStartTransaction", {"idToken": REMOTE, "remoteStartId": 77, "evseId": 1}),
]  # fmt: skip


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


async def _charge(
    ch: Any,
    tag: str,
    start_wh: int,
    stop_wh: int,
    reason: str,
    before_stop: Callable[[], Awaitable[None]] | None = None,
) -> int:
    """One 1.6 session: authorize, start, three samples, (a hook), stop. Returns its id."""
    assert (await ch.call(call16.Authorize(id_tag=tag))).id_tag_info["status"] == "Accepted"
    await ch.status(1, "Preparing")
    start = await ch.call(
        call16.StartTransaction(connector_id=1, id_tag=tag, meter_start=start_wh, timestamp=_now())
    )
    await ch.status(1, "Charging")
    for step in (1, 2, 3):
        await ch.meter(1, start.transaction_id, start_wh + (stop_wh - start_wh) * step // 4)
    if before_stop is not None:
        await before_stop()
    await ch.status(1, "Finishing")
    await ch.call(
        call16.StopTransaction(
            transaction_id=start.transaction_id, meter_stop=stop_wh, timestamp=_now(), reason=reason
        )
    )
    await ch.status(1, "Available")
    return int(start.transaction_id)  # fmt: skip


def test_a_16_charger_through_the_bridge_passes_the_independent_strict_csms(
    tmp_path: Path,
) -> None:
    harness = pytest.importorskip("tests.gateway.harness")
    answers: dict[str, Any] = {}

    async def scenario() -> tuple[OcppRpcOracle, Any, list[int]]:
        behaviour = harness.ChargerBehaviour()
        async with OcppRpcOracle() as oracle:
            bridge = harness.BridgeProcess(oracle.url, tmp_path / "bridge.db",
                                           tmp_path / "journal")  # fmt: skip
            await bridge.start()
            try:
                async with harness.connected(bridge.url, CP, behaviour) as ch:
                    assert (await ch.boot()).status == "Accepted"
                    await ch.status(0, "Available")
                    await ch.status(1, "Available")
                    tx1 = await _charge(ch, "TAG-LOCAL", 1000, 3000, "Local")
                    for action, payload in BRIDGE_COMMANDS:
                        answers[action] = await oracle.send(CP, action, payload)

                    async def stop_remotely() -> None:
                        answers["RequestStopTransaction"] = await oracle.send(
                            CP, "RequestStopTransaction",
                            {"transactionId": _transaction_of(oracle, "TAG-REMOTE")},
                        )  # fmt: skip

                    tx2 = await _charge(ch, REMOTE["idToken"], 3000, 4500, "Remote",
                                        stop_remotely)  # fmt: skip
                    answers["Reset"] = await oracle.send(CP, "Reset", {"type": "Immediate"})
            finally:
                await bridge.terminate()
        return oracle, behaviour, [tx1, tx2]

    oracle, behaviour, tx16 = asyncio.run(scenario())

    # Zero violations on the 2.0.1 side, per ocpp-rpc, in both directions.
    assert oracle.violations == [], oracle.violations
    assert oracle.of("unhandled") == []
    # One CALL at a time upstream (OCPP-J 4.1.1), as strict CSMSs demand.
    assert [c for c in oracle.calls if c["outstanding"]] == []
    for action, answer in answers.items():
        if "status" in answer:
            assert answer["status"] == "Accepted", (action, answer)
    value = answers["GetVariables"]["getVariableResult"][0]
    assert (value["attributeStatus"], value["attributeValue"]) == ("Accepted", "300")
    assert answers["SetVariables"]["setVariableResult"][0]["attributeStatus"] == "Accepted"
    # Each command reached the charger as its 1.6 form.
    got = [a for a, _ in behaviour.received]
    for expected in ("GetConfiguration", "ChangeConfiguration", "TriggerMessage",
                     "SetChargingProfile", "RemoteStartTransaction", "RemoteStopTransaction",
                     "Reset"):  # fmt: skip
        assert expected in got, got
    assert dict(behaviour.received)["RemoteStopTransaction"]["transaction_id"] == tx16[1]
    # Two transactions upstream, each complete and in order, with the 1.6 energy.
    transactions = transactions_seen(oracle)
    assert len(transactions) == 2 and tx16[0] != tx16[1]
    energy = {}
    for events in transactions.values():
        seq = sorted(e["seqNo"] for e in events)
        assert seq == list(range(len(seq))), seq
        kinds = [e["eventType"] for e in sorted(events, key=lambda e: e["seqNo"])]
        assert kinds[0] == "Started" and kinds[-1] == "Ended" and kinds.count("Ended") == 1
        by_kind = {e["eventType"]: e for e in events}
        energy[token_of(events)] = (
            energy_of(by_kind["Started"], "Transaction.Begin"),
            energy_of(by_kind["Ended"], "Transaction.End"),
        )
    assert energy == {"TAG-LOCAL": (1000, 3000), "TAG-REMOTE": (3000, 4500)}


def _transaction_of(oracle: OcppRpcOracle, tag: str) -> str:
    for tx, events in transactions_seen(oracle).items():
        if token_of(events) == tag:
            return tx
    raise AssertionError(f"no transaction for {tag}")
