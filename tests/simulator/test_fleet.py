"""The simulated fleet over real WebSockets against a strict CSMS on 127.0.0.1.

Each run is a full simulated day (or a few hours) played as fast as the CSMS answers, or on
the accelerated clock; every frame both ways is validated against the official schemas.
"""

from __future__ import annotations

import asyncio
import random
import socket
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from ocppkit.toolkit.simulator import (
    DriverSettings,
    FleetConfig,
    FleetPlan,
    FleetResult,
    plan_fleet,
    run_fleet,
)
from ocppkit.toolkit.simulator.model import DropPlan
from ocppkit.translators.versions import OcppVersion
from tests.simulator.strict_csms import StrictCsms

pytestmark = [pytest.mark.network, pytest.mark.timeout(60)]
V15, V16, V201 = OcppVersion.V15, OcppVersion.V16, OcppVersion.V201
MIX = ((V16, 0.5), (V201, 0.5))


def assert_csms_saw_exactly_the_truth(csms: StrictCsms, result: FleetResult) -> None:
    """One CSMS transaction per session, same id, same energy, stopped exactly once."""
    assert not csms.violations
    assert not result.failures and not result.errors
    assert all(c.csms_violations == 0 for c in result.chargers)
    assert result.sessions and all(s.delivered for s in result.sessions)
    assert len(csms.transactions) == len(result.sessions)
    for s in result.sessions:
        assert s.transaction_id is not None
        t = csms.transactions[(s.charge_point_id, s.transaction_id)]
        assert (t.meter_start, t.meter_stop) == (s.meter_start_wh, s.meter_stop_wh)
        assert t.stops == 1
        if s.ocpp_version is not V15:  # 1.5 StopTransaction has no reason
            assert t.stop_reason == s.stop_reason
        if s.ocpp_version is V201:
            assert t.seq_nos == list(range(len(t.seq_nos)))  # no gap, no duplicate


def one_session_plan(version: OcppVersion, *, drop: bool = False) -> FleetPlan:
    """A one-charger plan cut down to its first session (optionally with a drop inside)."""
    config = FleetConfig(chargers=1, mix=((version, 1.0),), seed=5,
                         duration=timedelta(hours=12), sessions_per_connector_day=12)  # fmt: skip
    plan = plan_fleet(config, random.Random(config.seed))
    charger = plan.chargers[0]
    session = charger.sessions[0]
    drops: tuple[DropPlan, ...] = ()
    if drop:  # mid-transaction, while it is charging
        at = session.start + (session.charging_end - session.start) / 3
        drops = (DropPlan(at, at + timedelta(minutes=15)),)
    charger = replace(charger, sessions=(session,), faults=(), reboots=(), drops=drops)
    return replace(plan, chargers=(charger,))


def test_a_mixed_fleet_day_matches_what_the_strict_csms_saw() -> None:
    async def main() -> tuple[StrictCsms, FleetResult]:
        async with StrictCsms() as csms:
            mix = ((V15, 0.2), (V16, 0.4), (V201, 0.4))
            config = FleetConfig(chargers=6, mix=mix, seed=11, drops_per_charger_day=2,
                                 faults_per_charger_day=1, reboots_per_charger_day=0.5)  # fmt: skip
            return csms, await run_fleet(config, csms.url, speed=None)

    csms, result = asyncio.run(main())
    assert_csms_saw_exactly_the_truth(csms, result)
    assert {s.ocpp_version for s in result.sessions} == {V15, V16, V201}
    sent = {a for c in result.chargers for a in c.sent}
    assert {"BootNotification", "StatusNotification", "Authorize", "StartTransaction",
            "MeterValues", "StopTransaction", "TransactionEvent", "Heartbeat"} <= sent  # fmt: skip
    assert sum(c.planned_drops for c in result.chargers) > 0
    assert sum(len(c.faults) for c in result.chargers) > 0
    reboots = sum(len(c.reboots) for c in result.chargers)
    assert reboots > 0
    boots = [a for _, a in csms.received].count("BootNotification")
    assert boots == len(result.chargers) + reboots


def test_the_same_seed_replays_the_same_sessions() -> None:
    async def main() -> FleetResult:
        async with StrictCsms() as csms:
            config = FleetConfig(chargers=4, mix=MIX, seed=23, drops_per_charger_day=2)
            return await run_fleet(config, csms.url, speed=None)

    def key(result: FleetResult) -> list[tuple[object, ...]]:
        # 1.6 ids are the CSMS's (its numbering follows arrival order); 2.0.1 ids are ours.
        return sorted(
            (s.charge_point_id, s.connector_id, s.started_at, s.meter_start_wh,
             s.meter_stop_wh, s.stop_reason, s.id_tag,
             s.transaction_id if s.ocpp_version is V201 else None)
            for s in result.sessions
        )  # fmt: skip

    first, second = asyncio.run(main()), asyncio.run(main())
    assert key(first) == key(second) and first.sessions


def test_the_accelerated_clock_runs_hours_in_seconds() -> None:
    async def main() -> tuple[StrictCsms, FleetResult]:
        async with StrictCsms() as csms:
            config = FleetConfig(chargers=2, mix=MIX, seed=3, duration=timedelta(hours=12),
                                 start=FleetConfig().start + timedelta(hours=7))  # fmt: skip
            return csms, await run_fleet(config, csms.url, speed=12 * 3600 / 2.0)

    csms, result = asyncio.run(main())
    assert 2.0 <= result.wall_seconds < 20
    assert_csms_saw_exactly_the_truth(csms, result)


@pytest.mark.parametrize(
    ("version", "action"),
    [
        (V16, "StartTransaction"),
        (V16, "StopTransaction"),
        (V16, "MeterValues"),
        (V201, "TransactionEvent"),
    ],
)
def test_a_lost_answer_is_resent_without_losing_or_duplicating_the_transaction(
    version: OcppVersion, action: str
) -> None:
    async def main() -> tuple[StrictCsms, FleetResult]:
        async with StrictCsms(lose_answer_once=frozenset({action})) as csms:
            plan = one_session_plan(version)
            return csms, await run_fleet(plan.config, csms.url, speed=None, plan=plan)

    csms, result = asyncio.run(main())
    assert_csms_saw_exactly_the_truth(csms, result)
    assert [a for _, a in csms.received].count(action) >= 2  # it really was sent twice
    assert result.chargers[0].unplanned_drops == 1 and result.chargers[0].connects == 2


@pytest.mark.parametrize("version", [V16, V201])
def test_a_drop_mid_transaction_queues_and_then_delivers_every_message(
    version: OcppVersion,
) -> None:
    async def main() -> tuple[StrictCsms, FleetResult]:
        async with StrictCsms() as csms:
            plan = one_session_plan(version, drop=True)
            return csms, await run_fleet(plan.config, csms.url, speed=None, plan=plan)

    csms, result = asyncio.run(main())
    assert_csms_saw_exactly_the_truth(csms, result)
    session = one_session_plan(version).chargers[0].sessions[0]
    (t,) = csms.transactions.values()
    extra = 2 if version is V201 else 0  # Transaction.Begin and .End ride in 2.0.1 events
    assert t.meter_values == len(session.samples) + extra
    assert result.chargers[0].planned_drops == 1
    if version is V201:
        # 15 simulated minutes offline at one sample a minute, flagged as such (E04).
        assert 14 <= t.offline_events <= 16


@pytest.mark.parametrize("version", [V16, V201])
def test_a_remote_start_is_answered_and_starts_the_waiting_ev(version: OcppVersion) -> None:
    async def main() -> tuple[StrictCsms, FleetResult]:
        async with StrictCsms(remote_start=True) as csms:
            plan = one_session_plan(version)
            return csms, await run_fleet(plan.config, csms.url, speed=None, plan=plan)

    csms, result = asyncio.run(main())
    assert_csms_saw_exactly_the_truth(csms, result)
    (s,) = result.sessions
    assert (s.start_mode, s.id_tag) == ("remote", "REMOTE01")
    assert any(a[2]["status"] == "Accepted" for a in csms.answers)
    sent = result.chargers[0].sent
    if version is V16:
        assert "Authorize" not in sent  # AuthorizeRemoteTxRequests = false


async def _while_charging(
    version: OcppVersion, commands: Any, csms: StrictCsms
) -> tuple[FleetResult, list[Any]]:
    """Run one session on the accelerated clock and send ``commands`` once it charges."""
    plan = one_session_plan(version)
    session = plan.chargers[0].sessions[0]
    config = replace(plan.config, start=session.start - timedelta(minutes=5),
                     duration=session.unplug - session.start + timedelta(minutes=30))  # fmt: skip
    plan = replace(plan, config=config)
    speed = (config.duration.total_seconds()) / 3.0
    fleet = asyncio.create_task(run_fleet(config, csms.url, speed=speed, plan=plan))
    for _ in range(300):
        if csms.transactions and any(m for m in csms.transactions.values() if m.meter_values):
            break
        await asyncio.sleep(0.01)
    cp = plan.chargers[0].spec.charge_point_id
    answers = [await csms.call(cp, action, payload) for action, payload in commands(csms)]
    return await fleet, answers


def test_a_16_charger_answers_every_command_with_a_valid_answer() -> None:
    def commands(csms: StrictCsms) -> list[tuple[str, dict[str, Any]]]:
        (tx,) = [t.transaction_id for t in csms.transactions.values()]
        return [
            ("GetConfiguration", {"key": ["HeartbeatInterval", "Nope"]}),
            ("GetConfiguration", {}),
            ("ChangeConfiguration", {"key": "HeartbeatInterval", "value": "120"}),
            ("ChangeConfiguration", {"key": "NumberOfConnectors", "value": "9"}),
            ("TriggerMessage", {"requestedMessage": "MeterValues"}),
            ("TriggerMessage", {"requestedMessage": "StatusNotification", "connectorId": 1}),
            ("TriggerMessage", {"requestedMessage": "DiagnosticsStatusNotification"}),
            ("SetChargingProfile", {"connectorId": 1, "csChargingProfiles": {
                "chargingProfileId": 3, "stackLevel": 0, "chargingProfilePurpose": "TxProfile",
                "chargingProfileKind": "Relative", "transactionId": tx,
                "chargingSchedule": {"chargingRateUnit": "A", "chargingSchedulePeriod": [
                    {"startPeriod": 0, "limit": 16.0}]}}}),
            ("ChangeAvailability", {"connectorId": 1, "type": "Inoperative"}),
            ("ClearCache", {}),
            ("DataTransfer", {"vendorId": "com.example"}),
            ("GetLocalListVersion", {}),
            ("UpdateFirmware", {"location": "http://x/fw", "retrieveDate": "2026-03-02T00:00:00Z"}),
            ("RemoteStopTransaction", {"transactionId": tx}),
        ]  # fmt: skip

    async def main() -> tuple[StrictCsms, FleetResult, list[Any]]:
        async with StrictCsms() as csms:
            result, answers = await _while_charging(V16, commands, csms)
            return csms, result, answers

    csms, result, answers = asyncio.run(main())
    assert_csms_saw_exactly_the_truth(csms, result)
    payloads: list[Any] = [getattr(a, "payload", None) for a in answers]
    assert payloads[0]["unknownKey"] == ["Nope"]
    assert [p["status"] for p in payloads[2:5]] == ["Accepted", "Rejected", "Accepted"]
    assert payloads[6] == {"status": "NotImplemented"}
    assert payloads[8] == {"status": "Scheduled"}  # a transaction is running
    assert answers[12].error_code == "NotSupported"
    assert payloads[13] == {"status": "Accepted"}
    (s,) = result.sessions
    assert s.stop_reason == "Remote"
    assert result.chargers[0].answered["TriggerMessage"] == 3


def test_a_201_station_answers_every_command_with_a_valid_answer() -> None:
    def commands(csms: StrictCsms) -> list[tuple[str, dict[str, Any]]]:
        (tx,) = [t.transaction_id for t in csms.transactions.values()]
        comp = {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}
        return [
            ("GetVariables", {"getVariableData": [comp, {"component": {"name": "Nope"},
                                                         "variable": {"name": "X"}}]}),
            ("SetVariables", {"setVariableData": [{**comp, "attributeValue": "120"}]}),
            ("TriggerMessage", {"requestedMessage": "TransactionEvent"}),
            ("TriggerMessage", {"requestedMessage": "BootNotification"}),
            ("SetChargingProfile", {"evseId": 1, "chargingProfile": {
                "id": 3, "stackLevel": 0, "chargingProfilePurpose": "TxProfile",
                "chargingProfileKind": "Relative", "transactionId": tx,
                "chargingSchedule": [{"id": 1, "chargingRateUnit": "A",
                                      "chargingSchedulePeriod": [{"startPeriod": 0,
                                                                  "limit": 16.0}]}]}}),
            ("UnlockConnector", {"evseId": 1, "connectorId": 1}),
            ("GetTransactionStatus", {"transactionId": tx}),
            ("Reset", {"type": "OnIdle"}),
            ("RequestStopTransaction", {"transactionId": tx}),
        ]  # fmt: skip

    async def main() -> tuple[StrictCsms, FleetResult, list[Any]]:
        async with StrictCsms() as csms:
            result, answers = await _while_charging(V201, commands, csms)
            return csms, result, answers

    csms, result, answers = asyncio.run(main())
    assert_csms_saw_exactly_the_truth(csms, result)
    p = [a.payload for a in answers]
    assert [r["attributeStatus"] for r in p[0]["getVariableResult"]] == [
        "Accepted", "UnknownComponent"]  # fmt: skip
    assert p[1]["setVariableResult"][0]["attributeStatus"] == "Accepted"
    assert (p[2]["status"], p[3]["status"]) == ("Accepted", "Rejected")
    assert p[5]["status"] == "OngoingAuthorizedTransaction"
    assert p[6]["ongoingIndicator"] is True
    assert p[7]["status"] == "Scheduled"
    (s,) = result.sessions
    assert s.stop_reason == "Remote"
    # The OnIdle reset happened once the EV left: a second BootNotification.
    assert [a for _, a in csms.received].count("BootNotification") == 2
    assert result.chargers[0].reboots[0][1] == "RemoteReset"


def test_a_15_soap_charger_plays_its_sessions_and_answers_the_csms() -> None:
    async def main() -> tuple[StrictCsms, FleetResult, dict[str, Any]]:
        async with StrictCsms() as csms:
            plan = one_session_plan(V15, drop=True)
            task = asyncio.create_task(
                run_fleet(plan.config, csms.url, speed=plan.config.duration.total_seconds() / 2,
                          plan=plan)
            )  # fmt: skip
            cp = plan.chargers[0].spec.charge_point_id
            while cp not in csms.soap_addresses:
                await asyncio.sleep(0.01)
            answer = await csms.call_soap(cp, "GetConfiguration", {"key": ["HeartbeatInterval"]})
            return csms, await task, answer

    csms, result, answer = asyncio.run(main())
    assert not csms.violations and not result.failures and not result.errors
    (s,) = result.sessions
    assert s.ocpp_version is V15 and s.delivered
    t = csms.transactions[(s.charge_point_id, s.transaction_id)]  # type: ignore[index]
    assert (t.meter_start, t.meter_stop, t.stops) == (s.meter_start_wh, s.meter_stop_wh, 1)
    assert answer["configurationKey"][0]["key"] == "HeartbeatInterval"
    assert result.chargers[0].planned_drops == 1


@pytest.mark.parametrize("version", [V16, V201])
def test_an_unanswered_call_times_out_and_is_resent_once_reconnected(
    version: OcppVersion,
) -> None:
    action = "StartTransaction" if version is V16 else "TransactionEvent"

    async def main() -> tuple[StrictCsms, FleetResult]:
        async with StrictCsms(ignore_once=frozenset({action})) as csms:
            plan = one_session_plan(version)
            settings = DriverSettings(call_timeout=0.3)
            result = await run_fleet(plan.config, csms.url, speed=None, plan=plan,
                                     settings=settings)  # fmt: skip
            return csms, result

    csms, result = asyncio.run(main())
    assert_csms_saw_exactly_the_truth(csms, result)
    assert result.chargers[0].unplanned_drops == 1 and result.chargers[0].connects == 2


def test_chargers_wait_for_a_csms_that_starts_late() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]

    async def main() -> tuple[StrictCsms, FleetResult]:
        csms = StrictCsms(port=port)
        config = FleetConfig(chargers=3, mix=MIX, seed=2, duration=timedelta(hours=16))
        fleet = asyncio.create_task(run_fleet(config, f"ws://127.0.0.1:{port}/ocpp", speed=None))
        await asyncio.sleep(0.8)  # connection refused meanwhile: the chargers back off
        async with csms:
            return csms, await fleet

    csms, result = asyncio.run(main())
    assert_csms_saw_exactly_the_truth(csms, result)
    assert all(c.connects >= 1 for c in result.chargers)


def test_chargers_reconnect_when_the_csms_closes_their_connections() -> None:
    async def main() -> tuple[StrictCsms, FleetResult]:
        async with StrictCsms() as csms:
            config = FleetConfig(chargers=4, mix=MIX, seed=8, duration=timedelta(hours=10),
                                 start=FleetConfig().start + timedelta(hours=7),
                                 drops_per_charger_day=0)  # fmt: skip
            fleet = asyncio.create_task(run_fleet(config, csms.url, speed=10 * 3600 / 2.5))
            await asyncio.sleep(1.0)
            await csms.drop_all()
            return csms, await fleet

    csms, result = asyncio.run(main())
    assert_csms_saw_exactly_the_truth(csms, result)
    assert all(c.unplanned_drops == 1 and c.connects == 2 for c in result.chargers)


def test_a_handshake_still_refused_at_the_end_is_reported_once_with_its_http_status() -> None:
    """A wrong URL path must not look like a CSMS that never answers."""
    from aiohttp import web

    url = ""

    async def main() -> FleetResult:
        nonlocal url
        runner = web.AppRunner(web.Application())  # no route: every handshake gets 404
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        url = f"ws://127.0.0.1:{port}/wrong"
        try:
            config = FleetConfig(chargers=1, mix=((V16, 1.0),), seed=3,
                                 duration=timedelta(hours=2))  # fmt: skip
            return await run_fleet(config, url, speed=7200 / 1.0)
        finally:
            await runner.cleanup()

    result = asyncio.run(main())
    # Retried with backoff all along (several attempts), reported once, at the end.
    assert [e for e in result.errors if "connect" in e] == [
        f"SIM0001: connect {url}/SIM0001: handshake refused, HTTP 404 (still failing at the end)"
    ]
