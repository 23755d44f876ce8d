"""Converting conversations the project recorded live, checked against the other leg.

The gateway's end-to-end scenario (:func:`tests.gateway.test_e2e_session.scenario`)
runs a 1.6 charger written with the ``ocpp`` package through ``ocppkit bridge``
to the built-in strict 2.0.1 CSMS, which sends its commands (GetVariables,
SetVariables, TriggerMessage, SetChargingProfile, RequestStart/Stop, Reset).
The bridge journals both legs: the charger's leg is a recorded 1.6
conversation with the CSMS's commands in it, the CSMS's leg the 2.0.1 one.
Converting one leg must give the other's commands and answers: a truth
computed another way (over sockets, by the live bridge and a real CSMS).
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from ocppkit.toolkit.translate_report import Cause, LeftOut
from ocppkit.toolkit.translate_stream import translate_lines, translator_for
from ocppkit.translators.journal import Direction, JournalRecord, Leg, decode_record, encode_record
from ocppkit.translators.versions import OcppVersion
from tests.gateway.harness import journal_records, lib_violations
from tests.gateway.test_e2e_session import scenario

from .test_conversation import check_conversation

pytestmark = pytest.mark.timeout(120)
V16, V201 = OcppVersion.V16, OcppVersion.V201
DOWN = Direction.CSMS_TO_CS


@pytest.fixture(scope="module")
def legs(tmp_path_factory: pytest.TempPathFactory) -> dict[Leg, list[JournalRecord]]:
    tmp = tmp_path_factory.mktemp("recorded")
    asyncio.run(scenario(tmp))
    records = journal_records(tmp / "journal")
    return {leg: [r for r in records if r.leg is leg] for leg in Leg}


def _convert(
    records: list[JournalRecord], source: OcppVersion, target: OcppVersion
) -> tuple[list[JournalRecord], list[LeftOut]]:
    out: list[bytes] = []
    left: list[LeftOut] = []
    lines = [encode_record(r) for r in records]
    outcome = translate_lines(
        enumerate(lines, 1), translator_for(source, target), out.append, report=left.append
    )
    assert outcome.ok
    return [decode_record(line) for line in out], left


def _commands(records: list[JournalRecord]) -> list[str]:
    return [
        r.message[2]
        for r in records
        if isinstance(r.message, list) and r.message[0] == 2 and r.direction is DOWN
    ]


def _answers(records: list[JournalRecord]) -> dict[str, Any]:
    """The charger's answers to the CSMS's commands, by command id."""
    ids = {r.message[1] for r in records if r.message[0] == 2 and r.direction is DOWN}
    return {
        r.message[1]: r.message[2]
        for r in records
        if r.message[0] == 3 and r.direction is not DOWN and r.message[1] in ids
    }


def test_recorded_1_6_leg_converts_to_the_2_0_1_commands_the_csms_really_sent(
    legs: dict[Leg, list[JournalRecord]],
) -> None:
    charger_leg, csms_leg = legs[Leg.DOWNSTREAM], legs[Leg.UPSTREAM]
    assert {r.ocpp_version for r in charger_leg} == {V16}
    converted, left = _convert(charger_leg, V16, V201)
    check_conversation(converted, V201)
    assert lib_violations(converted, "2.0.1") == []  # second oracle: the ocpp package
    assert _commands(converted) == _commands(csms_leg)
    # The charger's answers, converted, are the statuses the CSMS was given.
    got = [a.get("status") for a in _answers(converted).values()]
    want = [a.get("status") for a in _answers(csms_leg).values()]
    assert got == want
    assert not [e for e in left if e.record.direction is DOWN and e.record.message[0] == 2]


def test_recorded_2_0_1_leg_converts_back_to_the_1_6_commands_the_charger_received(
    legs: dict[Leg, list[JournalRecord]],
) -> None:
    charger_leg, csms_leg = legs[Leg.DOWNSTREAM], legs[Leg.UPSTREAM]
    assert {r.ocpp_version for r in csms_leg} == {V201}
    converted, left = _convert(csms_leg, V201, V16)
    check_conversation(converted, V16)
    assert lib_violations(converted, "1.6") == []
    assert _commands(converted) == _commands(charger_leg)
    starts = [r.message[3] for r in converted if r.message[0] == 2 and r.message[2] ==
              "StartTransaction"]  # fmt: skip
    recorded = [r.message[3] for r in charger_leg if r.message[0] == 2 and r.message[2] ==
                "StartTransaction"]  # fmt: skip
    key = ("connectorId", "idTag", "meterStart")
    assert [[s[k] for k in key] for s in starts] == [[s[k] for k in key] for s in recorded]
    stops = [r.message[3]["meterStop"] for r in converted if r.message[0] == 2 and
             r.message[2] == "StopTransaction"]  # fmt: skip
    assert stops == [3000, 4500]
    # Left out: only the CSMS's answers to events the translator answered itself
    # (a 1.6 CSMS is told of them by calls of its own ids, none of them recorded).
    assert left and all(e.record.message[0] == 3 for e in left)
    assert {e.cause for e in left} == {Cause.ANSWERED_BY_BRIDGE}


async def _station_session_recorded(tmp: Path) -> tuple[Any, Any, list[JournalRecord]]:
    """The project's simulated 2.0.1 station, one session, against the built-in CSMS.

    The station starts its transaction at plug-in, before authorisation
    (``TxStartPoint = EVConnected``); the CSMS sends its commands while it
    charges. The CSMS's own journal is the recorded 2.0.1 conversation.
    """
    from ocppkit.toolkit.csms import Csms, CsmsSettings
    from ocppkit.toolkit.journal_writer import JournalWriter
    from ocppkit.toolkit.simulator import run_fleet
    from tests.simulator.test_fleet import one_session_plan

    journal = JournalWriter(tmp / "csms-journal")
    csms = Csms(CsmsSettings(strict_one_call=True, call_timeout=10), journal=journal)
    await csms.start()
    try:
        plan = one_session_plan(V201)
        session = plan.chargers[0].sessions[0]
        length = session.unplug - session.start + timedelta(minutes=30)
        config = replace(plan.config, start=session.start - timedelta(minutes=5), duration=length)
        plan = replace(plan, config=config)
        speed = config.duration.total_seconds() / 3.0
        fleet = asyncio.create_task(run_fleet(config, csms.url, speed=speed, plan=plan))
        cp = plan.chargers[0].spec.charge_point_id
        for _ in range(500):
            if any(t.id_token and len(t.event_types) >= 3 for t in csms.transactions.values()):
                break
            await asyncio.sleep(0.01)
        (tx,) = [t.transaction_id for t in csms.transactions.values()]
        hb = {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}
        for action, payload in [
            ("GetVariables", {"getVariableData": [hb]}),
            ("SetVariables", {"setVariableData": [{**hb, "attributeValue": "120"}]}),
            ("TriggerMessage", {"requestedMessage": "StatusNotification",
                                "evse": {"id": 1, "connectorId": 1}}),
            ("UnlockConnector", {"evseId": 1, "connectorId": 1}),
            ("RequestStopTransaction", {"transactionId": tx}),
        ]:  # fmt: skip
            await csms.call(cp, action, payload)
        result = await fleet
    finally:
        await csms.stop()
        journal.close()
    return csms, result, journal_records(tmp / "csms-journal")


def test_simulated_2_0_1_station_conversation_converts_to_1_6_with_the_simulators_energy(
    tmp_path: Path,
) -> None:
    csms, result, recorded = asyncio.run(_station_session_recorded(tmp_path))
    assert csms.violations == 0 and {r.ocpp_version for r in recorded} == {V201}
    (truth,) = result.sessions
    events = [r.message[3] for r in recorded if r.message[0] == 2 and r.message[2] ==
              "TransactionEvent"]  # fmt: skip
    assert "idToken" not in events[0]  # started before authorisation
    converted, left = _convert(recorded, V201, V16)
    check_conversation(converted, V16)
    assert lib_violations(converted, "1.6") == []
    calls = [r.message for r in converted if r.message[0] == 2]
    (start,) = [c[3] for c in calls if c[2] == "StartTransaction"]
    (stop,) = [c[3] for c in calls if c[2] == "StopTransaction"]
    assert (start["meterStart"], stop["meterStop"]) == (truth.meter_start_wh, truth.meter_stop_wh)
    assert stop["reason"] == "Remote" and stop["transactionId"] == 1
    metered = [c[3] for c in calls if c[2] == "MeterValues"]
    assert metered and all(m["transactionId"] == 1 for m in metered)
    assert _commands(converted) == [
        "GetConfiguration", "ChangeConfiguration", "TriggerMessage", "RemoteStopTransaction",
    ]  # fmt: skip
    # An unlock during a transaction would stop it on a 1.6 charger: the
    # translator answers it itself (2.0.1 F05.FR.02), so it is reported.
    unlock = [e for e in left if e.action == "UnlockConnector"]
    assert [e.cause for e in unlock] == [Cause.ANSWERED_BY_BRIDGE, Cause.ANSWER_LEFT_OUT]
    assert "transaction running" in unlock[0].reason
    # The Started event's answer: no 1.6 call answers it (its data rides in StartTransaction).
    assert {e.cause for e in left} <= {
        Cause.ANSWER_OF_HELD, Cause.ANSWERED_BY_BRIDGE, Cause.ANSWER_LEFT_OUT}  # fmt: skip
    assert Cause.ANSWER_OF_HELD in {e.cause for e in left}
    merged = [line for r in converted for line in r.meta.get("merged", [])]
    assert merged  # the events before authorisation are in the output, not lost
