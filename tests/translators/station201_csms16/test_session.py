"""A 2.0.1 station behind a 1.6 CSMS: whole sessions and transaction rules."""

from __future__ import annotations

from typing import Any

import orjson

from ocppkit.translators.frames import Call, CallError, CallResult
from ocppkit.translators.outcome import NoteKind
from ocppkit.translators.station201_csms16 import StationState

from .helpers import Bridge, Session

T0 = "2026-03-01T12:00:00Z"


def event(
    event_type: str,
    seq_no: int,
    *,
    tx: str = "tx-A",
    trigger: str = "CablePluggedIn",
    id_token: str | None = None,
    meter: float | None = None,
    context: str = "Sample.Periodic",
    **info: Any,
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "eventType": event_type,
        "timestamp": f"2026-03-01T12:{seq_no:02d}:00Z",
        "triggerReason": trigger,
        "seqNo": seq_no,
        "transactionInfo": {"transactionId": tx, **info},
    }
    if seq_no == 0:
        payload["evse"] = {"id": 1, "connectorId": 1}
    if id_token is not None:
        payload["idToken"] = {"idToken": id_token, "type": "ISO14443"}
    if meter is not None:
        payload["meterValue"] = [
            {
                "timestamp": payload["timestamp"],
                "sampledValue": [
                    {
                        "value": meter,
                        "context": context,
                        "measurand": "Energy.Active.Import.Register",
                        "unitOfMeasure": {"unit": "kWh", "multiplier": 0},
                    }
                ],
            }
        ]
    return payload


def sent(session: Session, action: str) -> list[Call]:
    return [f for f in session.to_csms if isinstance(f, Call) and f.action == action]


def test_full_session_of_a_201_station_through_a_16_csms() -> None:
    s = Session()
    boot = s.station(
        Call(
            "b1",
            "BootNotification",
            {
                "chargingStation": {"vendorName": "Vendor", "model": "M1", "serialNumber": "SN"},
                "reason": "PowerUp",
            },
        )
    )
    assert isinstance(boot, CallResult) and boot.payload["interval"] == 300
    assert sent(s, "BootNotification")[0].payload == {
        "chargePointVendor": "Vendor",
        "chargePointModel": "M1",
        "chargePointSerialNumber": "SN",
    }
    status = {"timestamp": T0, "connectorStatus": "Available", "evseId": 1, "connectorId": 1}
    s.station(Call("s1", "StatusNotification", status))
    auth = s.station(Call("a1", "Authorize", {"idToken": {"idToken": "TAG1", "type": "ISO14443"}}))
    assert isinstance(auth, CallResult) and auth.payload == {"idTokenInfo": {"status": "Accepted"}}
    s.station(Call("s2", "StatusNotification", {**status, "connectorStatus": "Occupied"}))
    assert sent(s, "StatusNotification")[-1].payload["status"] == "Preparing"

    # Started at plug-in, no idToken: answered locally, nothing reaches 1.6 yet.
    started = s.station(
        Call("t0", "TransactionEvent", event("Started", 0, meter=12.5, context="Transaction.Begin"))
    )
    assert started == CallResult("t0", {})
    assert not sent(s, "StartTransaction")
    # Buffered meanwhile.
    s.station(Call("t1", "TransactionEvent", event("Updated", 1, meter=12.5)))
    # The idToken arrives: StartTransaction, answered end to end.
    authorized = s.station(
        Call(
            "t2",
            "TransactionEvent",
            event("Updated", 2, trigger="Authorized", id_token="TAG1", chargingState="Charging"),
        )
    )
    assert authorized == CallResult(
        "t2",
        {
            "idTokenInfo": {
                "status": "Accepted",
                "groupIdToken": {"idToken": "GROUP", "type": "Central"},
            }
        },
    )
    (start,) = sent(s, "StartTransaction")
    assert start.payload == {
        "connectorId": 1,
        "idTag": "TAG1",
        "meterStart": 12500,
        "timestamp": "2026-03-01T12:00:00Z",
    }
    # The buffered meter values went out with the CSMS's integer id.
    buffered = sent(s, "MeterValues")
    assert [m.payload["transactionId"] for m in buffered] == [1000, 1000]
    assert buffered[0].payload["meterValue"][0]["sampledValue"][0] == {
        "value": "12.5",
        "context": "Transaction.Begin",
        "measurand": "Energy.Active.Import.Register",
        "unit": "kWh",
    }
    assert sent(s, "StatusNotification")[-1].payload["status"] == "Charging"

    # Live meter values: end to end.
    live = s.station(Call("t3", "TransactionEvent", event("Updated", 3, meter=14.25)))
    assert live == CallResult("t3", {})
    assert sent(s, "MeterValues")[-1].message_id == "t3"

    # Configuration, charging profile, remote stop from the CSMS.
    conf = s.csms(Call("c1", "GetConfiguration", {"key": ["HeartbeatInterval", "Nope"]}))
    assert conf == CallResult(
        "c1",
        {
            "configurationKey": [{"key": "HeartbeatInterval", "readonly": False, "value": "300"}],
            "unknownKey": ["Nope"],
        },
    )
    change = s.csms(Call("c2", "ChangeConfiguration", {"key": "HeartbeatInterval", "value": "60"}))
    assert change == CallResult("c2", {"status": "Accepted"})
    assert s.station_peer.variables[("OCPPCommCtrlr", "HeartbeatInterval")] == "60"
    profile = {
        "chargingProfileId": 7,
        "transactionId": 1000,
        "stackLevel": 1,
        "chargingProfilePurpose": "TxProfile",
        "chargingProfileKind": "Relative",
        "chargingSchedule": {
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0}],
        },
    }
    set_profile = s.csms(
        Call("c3", "SetChargingProfile", {"connectorId": 1, "csChargingProfiles": profile})
    )
    assert set_profile == CallResult("c3", {"status": "Accepted"})
    down = s.station_peer.received[-1]
    assert down.payload["chargingProfile"]["transactionId"] == "tx-A"
    assert down.payload["chargingProfile"]["chargingSchedule"][0]["id"] == 7
    stop = s.csms(Call("c4", "RemoteStopTransaction", {"transactionId": 1000}))
    assert stop == CallResult("c4", {"status": "Accepted"})
    assert s.station_peer.received[-1].payload == {"transactionId": "tx-A"}

    ended = s.station(
        Call(
            "t4",
            "TransactionEvent",
            event(
                "Ended",
                4,
                trigger="RemoteStop",
                meter=15.0,
                context="Transaction.End",
                stoppedReason="Remote",
            ),
        )
    )
    assert ended == CallResult("t4", {})
    (stop_tx,) = sent(s, "StopTransaction")
    assert stop_tx.payload["transactionId"] == 1000
    assert stop_tx.payload["meterStop"] == 15000
    assert stop_tx.payload["reason"] == "Remote"
    # The cable is still in: 1.6 Finishing.
    assert sent(s, "StatusNotification")[-1].payload["status"] == "Finishing"
    assert s.bridge.state.transactions == {}

    # Remote start: the remoteStartId is minted, and names the idTag of the
    # transaction even though the station's events carry no idToken.
    remote = s.csms(Call("c5", "RemoteStartTransaction", {"connectorId": 1, "idTag": "REMOTE"}))
    assert remote == CallResult("c5", {"status": "Accepted"})
    request = s.station_peer.received[-1]
    assert request.payload == {
        "idToken": {"idToken": "REMOTE", "type": "Central"},
        "evseId": 1,
        "remoteStartId": 1,
    }
    s.station(
        Call(
            "t5",
            "TransactionEvent",
            event("Started", 0, tx="tx-B", trigger="RemoteStart", remoteStartId=1),
        )
    )
    assert sent(s, "StartTransaction")[-1].payload["idTag"] == "REMOTE"
    assert s.bridge.state.remote_starts == {}
    assert s.bridge.state.transactions["tx-B"].id16 == 1001


def test_retried_transaction_event_is_not_sent_twice() -> None:
    s = Session()
    first = event("Started", 0, id_token="TAG1", meter=1.0, context="Transaction.Begin")
    s.station(Call("m1", "TransactionEvent", first))
    answer = s.station(Call("m1-retry", "TransactionEvent", first))
    assert answer == CallResult("m1-retry", {})
    assert len(sent(s, "StartTransaction")) == 1
    kinds = [n.kind for n in s.bridge.steps[-1].notes]
    assert NoteKind.DUPLICATE in kinds


def test_failed_start_transaction_lets_the_station_retry_the_same_event() -> None:
    bridge = Bridge()
    payload = event("Started", 0, id_token="TAG1")
    step = bridge.station(Call("e1", "TransactionEvent", payload))
    (start,) = step.to_csms
    failed = bridge.csms(CallError(start.message_id, "InternalError", "db down", {}))
    assert failed.to_charger == (CallError("e1", "InternalError", "db down", {}),)
    retry = bridge.station(Call("e1b", "TransactionEvent", payload))
    assert [c.action for c in retry.to_csms if isinstance(c, Call)] == ["StartTransaction"]


def test_transaction_ending_without_id_token_is_not_reported_without_free_tag() -> None:
    bridge = Bridge()
    bridge.station(Call("e0", "TransactionEvent", event("Started", 0)))
    step = bridge.station(
        Call("e1", "TransactionEvent", event("Ended", 1, stoppedReason="EVDisconnected"))
    )
    assert step.to_csms == ()
    assert step.to_charger == (CallResult("e1", {}),)
    assert bridge.state.transactions == {}
    assert bridge.state.lossy_counts["TransactionEvent.transaction"] == 1


def test_free_charging_tag_reports_a_transaction_that_never_had_an_id_token() -> None:
    bridge = Bridge(state=StationState(free_charging_id_tag="FREE"))
    bridge.station(Call("e0", "TransactionEvent", event("Started", 0, meter=2.0)))
    step = bridge.station(
        Call("e1", "TransactionEvent", event("Ended", 1, meter=3.0, context="Transaction.End"))
    )
    (start,) = step.to_csms
    assert isinstance(start, Call) and start.payload["idTag"] == "FREE"
    after = bridge.csms(
        CallResult(start.message_id, {"idTagInfo": {"status": "Accepted"}, "transactionId": 5})
    )
    assert after.to_charger == (CallResult("e1", {}),)
    actions = [f.action for f in after.to_csms if isinstance(f, Call)]
    assert actions == ["MeterValues", "StopTransaction"]
    stop = after.to_csms[-1]
    assert isinstance(stop, Call) and stop.payload["meterStop"] == 3000
    assert "idTag" not in stop.payload


def test_events_arriving_while_start_is_in_flight_wait_for_the_integer_id() -> None:
    bridge = Bridge()
    (start,) = bridge.station(
        Call("e0", "TransactionEvent", event("Started", 0, id_token="T"))
    ).to_csms
    waiting = bridge.station(Call("e1", "TransactionEvent", event("Ended", 1, meter=4.0)))
    assert waiting.to_csms == () and waiting.to_charger == (CallResult("e1", {}),)
    done = bridge.csms(
        CallResult(start.message_id, {"idTagInfo": {"status": "Blocked"}, "transactionId": 9})
    )
    assert done.to_charger == (CallResult("e0", {"idTokenInfo": {"status": "Blocked"}}),)
    (stop,) = [f for f in done.to_csms if isinstance(f, Call) and f.action == "StopTransaction"]
    assert stop.payload["transactionId"] == 9 and stop.payload["meterStop"] == 4000


def test_state_survives_a_json_round_trip_mid_transaction() -> None:
    bridge = Bridge()
    bridge.station(Call("e0", "TransactionEvent", event("Started", 0)))
    bridge.station(Call("e1", "TransactionEvent", event("Updated", 1, meter=1.5)))
    saved = orjson.loads(orjson.dumps(bridge.state.to_dict()))
    restored = Bridge(state=StationState.from_dict(saved))
    assert restored.state == bridge.state
    step = restored.station(Call("e2", "TransactionEvent", event("Updated", 2, id_token="TAG")))
    assert [f.action for f in step.to_csms if isinstance(f, Call)] == ["StartTransaction"]


def test_unknown_action_gets_not_implemented_and_201_only_action_not_supported() -> None:
    bridge = Bridge()
    unknown = bridge.station(Call("u1", "Teleport", {}), check_input=False)
    assert unknown.to_charger == (
        CallError("u1", "NotImplemented", "'Teleport' is not an OCPP 2.0.1 action", {}),
    )
    iso = bridge.station(
        Call(
            "u2",
            "NotifyEVChargingNeeds",
            {"evseId": 1, "chargingNeeds": {"requestedEnergyTransfer": "DC"}},
        )
    )
    (error,) = iso.to_charger
    assert isinstance(error, CallError) and error.error_code == "NotSupported"
    from_csms_unknown = bridge.csms(Call("u3", "StartTransaction", {}), check_input=False)
    (error16,) = from_csms_unknown.to_csms
    assert isinstance(error16, CallError) and error16.error_code == "NotSupported"


def test_answer_to_no_pending_call_is_noted_orphan() -> None:
    bridge = Bridge()
    step = bridge.csms(CallResult("nobody", {}))
    assert step.to_charger == step.to_csms == ()
    assert step.notes[0].kind is NoteKind.ORPHAN


def test_remote_stop_of_unknown_transaction_is_rejected_locally() -> None:
    bridge = Bridge()
    step = bridge.csms(Call("r1", "RemoteStopTransaction", {"transactionId": 42}))
    assert step.to_csms == (CallResult("r1", {"status": "Rejected"}),)
    assert step.to_charger == ()


def test_station_error_is_relayed_to_the_csms_in_16_spelling() -> None:
    bridge = Bridge()
    (down,) = bridge.csms(Call("r2", "Reset", {"type": "Soft"})).to_charger
    assert isinstance(down, Call) and down.payload == {"type": "OnIdle"}
    step = bridge.station(CallError(down.message_id, "FormatViolation", "bad", {}))
    assert step.to_csms == (CallError("r2", "FormationViolation", "bad", {}),)


def test_notify_event_fault_becomes_faulted_status_with_error_code() -> None:
    bridge = Bridge()
    fault = {
        "eventId": 1,
        "timestamp": T0,
        "trigger": "Delta",
        "actualValue": "true",
        "techCode": "GroundFailure",
        "component": {"name": "EVSE", "evse": {"id": 2}},
        "variable": {"name": "Problem"},
        "eventNotificationType": "HardWiredNotification",
    }
    step = bridge.station(
        Call("n1", "NotifyEvent", {"generatedAt": T0, "seqNo": 0, "eventData": [fault]})
    )
    assert step.to_charger == (CallResult("n1", {}),)
    (status,) = step.to_csms
    assert isinstance(status, Call) and status.payload == {
        "connectorId": 2,
        "errorCode": "GroundFailure",
        "status": "Faulted",
        "timestamp": T0,
        "info": "EVSE.Problem",
        "vendorErrorCode": "GroundFailure",
    }
    cleared = {**fault, "actualValue": "false", "eventId": 2}
    step = bridge.station(
        Call("n2", "NotifyEvent", {"generatedAt": T0, "seqNo": 1, "eventData": [cleared]})
    )
    (all_clear,) = step.to_csms
    assert isinstance(all_clear, Call) and all_clear.payload["status"] == "Available"
    assert all_clear.payload["errorCode"] == "NoError"


def test_buffer_of_a_transaction_without_id_token_is_capped() -> None:
    from ocppkit.translators.station201_csms16.transactions import MAX_BUFFERED

    bridge = Bridge()
    bridge.station(Call("e0", "TransactionEvent", event("Started", 0)))
    for seq in range(1, MAX_BUFFERED + 5):
        bridge.station(Call(f"e{seq}", "TransactionEvent", event("Updated", seq % 60, meter=1.0)))
        bridge.state.transactions["tx-A"].seq_nos.clear()  # distinct events, same seqNo range
    tx = bridge.state.transactions["tx-A"]
    assert len(tx.buffered) == MAX_BUFFERED
    assert tx.buffered[0]["eventType"] == "Started"
    assert bridge.state.lossy_counts["TransactionEvent.buffer"] == 5


def test_station_reusing_a_finished_transaction_id_starts_a_new_transaction() -> None:
    s = Session()
    s.station(Call("e0", "TransactionEvent", event("Started", 0, id_token="TAG1")))
    s.station(Call("e1", "TransactionEvent", event("Ended", 1, meter=2.0)))
    # A late retry of the Ended event is a duplicate...
    assert s.station(Call("e1b", "TransactionEvent", event("Ended", 1))) == CallResult("e1b", {})
    assert len(sent(s, "StopTransaction")) == 1
    # ...but after a reboot the station counts from the same id again.
    again = event("Started", 0, id_token="TAG2")
    again["timestamp"] = "2026-03-02T08:00:00Z"
    s.station(Call("e2", "TransactionEvent", again))
    assert [c.payload["idTag"] for c in sent(s, "StartTransaction")] == ["TAG1", "TAG2"]


def test_id_token_too_long_for_16_makes_the_transaction_wait_for_another() -> None:
    bridge = Bridge()
    long_token = event("Started", 0)
    long_token["idToken"] = {"idToken": "E" * 21, "type": "eMAID"}
    step = bridge.station(Call("e0", "TransactionEvent", long_token))
    assert step.to_csms == ()
    assert bridge.state.lossy_counts == {"TransactionEvent.idToken": 1}
    step = bridge.station(Call("e1", "TransactionEvent", event("Updated", 1, id_token="SHORT")))
    (start,) = step.to_csms
    assert isinstance(start, Call) and start.payload["idTag"] == "SHORT"


def test_second_ended_event_does_not_stop_the_transaction_twice() -> None:
    bridge = Bridge()
    (start,) = bridge.station(
        Call("e0", "TransactionEvent", event("Started", 0, id_token="T"))
    ).to_csms
    bridge.csms(
        CallResult(start.message_id, {"idTagInfo": {"status": "Accepted"}, "transactionId": 3})
    )
    first = bridge.station(Call("e1", "TransactionEvent", event("Ended", 1)))
    assert [f.action for f in first.to_csms if isinstance(f, Call)] == ["StopTransaction"]
    second = bridge.station(Call("e2", "TransactionEvent", event("Ended", 2)))
    assert second.to_csms == () and second.to_charger == (CallResult("e2", {}),)


def test_malformed_payloads_get_format_violation_not_an_exception() -> None:
    bridge = Bridge()
    step = bridge.station(Call("x1", "TransactionEvent", {"seqNo": 1}), check_input=False)
    (error,) = step.to_charger
    assert isinstance(error, CallError) and error.error_code == "FormatViolation"
    (down,) = bridge.csms(Call("x2", "GetLocalListVersion", {})).to_charger
    broken = bridge.station(CallResult(down.message_id, {"wrong": 1}))
    assert broken.to_csms == (
        CallError(
            "x2",
            "FormationViolation",
            "answer to GetLocalListVersion could not be translated (KeyError)",
            {},
        ),
    )
    assert bridge.state.pending == {}


def test_state_from_dict_owns_its_data() -> None:
    saved = StationState(lossy_counts={"Reset.type": 1}).to_dict()
    state = StationState.from_dict(saved)
    state.count_lossy("Reset.type")
    assert saved["lossy_counts"] == {"Reset.type": 1}
