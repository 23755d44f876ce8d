"""The project's own 2.0.1 simulator chargers against the independent ocpp-rpc CSMS.

Two simulated stations run half a day (accelerated) with sessions, faults, a drop and a
reboot, while the oracle sends them CSMS commands: every frame either way must pass
ocpp-rpc's strict check, and every transaction must arrive complete and in order.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from ocppkit.toolkit.simulator import FleetConfig, FleetResult, SessionTruth, plan_fleet, run_fleet
from ocppkit.translators.versions import OcppVersion
from tests.oracles.helpers import energy_of, transactions_seen
from tests.oracles.ocpp_rpc.oracle import OcppRpcOracle

pytestmark = [pytest.mark.timeout(60), pytest.mark.usefixtures("ocpp_rpc_installed")]

FLEET = FleetConfig(
    chargers=2,
    mix=((OcppVersion.V201, 1.0),),
    seed=8,
    duration=timedelta(hours=12),
    sessions_per_connector_day=10.0,
    faults_per_charger_day=2.0,
    reboots_per_charger_day=1.0,
    drops_per_charger_day=2.0,
)
COMMANDS: list[tuple[str, dict[str, Any]]] = [
    ("GetVariables", {"getVariableData": [
        {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}},
        {"component": {"name": "NoSuchCtrlr"}, "variable": {"name": "X"}}]}),
    ("SetVariables", {"setVariableData": [
        {"component": {"name": "SampledDataCtrlr"}, "variable": {"name": "TxUpdatedInterval"},
         "attributeValue": "60"}]}),
    ("TriggerMessage", {"requestedMessage": "StatusNotification"}),
    ("TriggerMessage", {"requestedMessage": "MeterValues", "evse": {"id": 1}}),
    ("SetChargingProfile", {"evseId": 1, "chargingProfile": {
        "id": 5, "stackLevel": 0, "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Absolute", "chargingSchedule": [{
            "id": 1, "chargingRateUnit": "W", "startSchedule": "2026-03-02T00:00:00Z",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 7400.0}]}]}}),
    ("ClearChargingProfile", {"chargingProfileId": 5}),
    ("GetTransactionStatus", {}),
    ("ChangeAvailability", {"operationalStatus": "Operative"}),
    ("UnlockConnector", {"evseId": 1, "connectorId": 1}),
    ("GetLocalListVersion", {}),
    ("DataTransfer", {"vendorId": "org.example"}),
    ("RequestStartTransaction", {"idToken": {"idToken": "REMOTE1", "type": "Central"},
                                 "remoteStartId": 42}),
]  # fmt: skip


def _assert_session_arrived(s: SessionTruth, events: list[dict[str, Any]]) -> None:
    seq = {e["seqNo"] for e in events}  # a resend after a drop may repeat a seqNo
    assert seq == set(range(len(seq))), (s.transaction_id, sorted(seq))
    kinds = {e["seqNo"]: e["eventType"] for e in events}
    assert kinds[0] == "Started" and kinds[max(seq)] == "Ended", kinds
    assert list(kinds.values()).count("Started") == 1 == list(kinds.values()).count("Ended")
    started = next(e for e in events if e["eventType"] == "Started")
    ended = next(e for e in events if e["eventType"] == "Ended")
    assert energy_of(started, "Transaction.Begin") == s.meter_start_wh
    assert energy_of(ended, "Transaction.End") == s.meter_stop_wh
    assert ended["transactionInfo"]["stoppedReason"] == s.stop_reason


def test_simulated_201_chargers_pass_the_independent_strict_csms() -> None:
    plan = plan_fleet(FLEET, random.Random(FLEET.seed))
    # The commanded station stays online (a planned drop would abort a command in flight);
    # the other one keeps its drops and reboots, so offline replays are judged too.
    first = replace(plan.chargers[0], drops=(), reboots=())
    plan = replace(plan, chargers=(first, *plan.chargers[1:]))
    assert plan.chargers[1].drops or plan.chargers[1].reboots
    ids = [c.spec.charge_point_id for c in plan.chargers]

    async def commands(oracle: OcppRpcOracle) -> list[tuple[str, dict[str, Any]]]:
        answers = []
        await oracle.wait_for(lambda e: e["event"] == "connect" and e["station"] == ids[0])
        for action, payload in COMMANDS:
            answers.append((action, await oracle.send(ids[0], action, payload)))
        return answers

    async def scenario() -> tuple[FleetResult, list[Any], OcppRpcOracle]:
        async with OcppRpcOracle() as oracle:
            # A day in ~3 s: long enough for the commands to meet a live station.
            fleet = asyncio.create_task(run_fleet(FLEET, oracle.url, speed=15_000, plan=plan))
            answers = await commands(oracle)
            result = await fleet
        return result, answers, oracle

    result, answers, oracle = asyncio.run(scenario())

    assert oracle.violations == []
    assert oracle.of("unhandled") == []
    assert [c for c in oracle.calls if c["outstanding"]] == []  # OCPP-J 4.1.1
    assert not result.failures and result.csms_violations == 0
    assert result.ok, [s for s in result.sessions if not s.delivered]
    # Every command was answered by the simulator, schema-valid per ocpp-rpc.
    assert [a for a, _ in answers] == [a for a, _ in COMMANDS]
    by_action = dict(answers)
    assert by_action["GetVariables"]["getVariableResult"][0]["attributeStatus"] == "Accepted"
    assert by_action["GetVariables"]["getVariableResult"][1]["attributeStatus"] == (
        "UnknownComponent"
    )
    # Every transaction the chargers reported reached the oracle, complete and in order,
    # and nothing else did.
    transactions = transactions_seen(oracle)
    assert len(result.sessions) >= 4, "the plan should exercise several sessions"
    assert {s.transaction_id for s in result.sessions} == set(transactions)
    for s in result.sessions:
        _assert_session_arrived(s, transactions[str(s.transaction_id)])
    actions = {c["action"] for c in oracle.calls}
    assert {"BootNotification", "StatusNotification", "Authorize", "NotifyEvent"} <= actions
    assert {e["station"] for e in oracle.of("connect")} == set(ids)
