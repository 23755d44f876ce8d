"""What real CSMSs demand of the charger-side translator (issue 15), rule by rule.

In memory, on a virtual clock. Every 2.0.1 call the bridge emits is checked
by the independent ``ocpp`` package's own 2.0.1 schema validation.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from ocpp.messages import Call as OcppCall
from ocpp.messages import validate_payload

from ocppkit.translators.context import Context
from ocppkit.translators.frames import Call, CallResult
from ocppkit.translators.j16_to_201.session import from_charger, from_csms
from ocppkit.translators.j16_to_201.state import BridgeState
from ocppkit.translators.outcome import Note, NoteKind, Step
from ocppkit.translators.settings import Settings, TokenRule

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def _oracle_valid(call: Call) -> None:
    """The ``ocpp`` package (mobilityhouse) validates the call as OCPP 2.0.1."""
    asyncio.run(validate_payload(OcppCall(call.message_id, call.action, call.payload), "2.0.1"))


@dataclass
class Bridge:
    """One charger's translator with a clock the test moves."""

    settings: Settings = field(default_factory=Settings)
    charge_point_id: str = "CP1"
    now: datetime = T0
    state: BridgeState = field(init=False)
    notes: list[Note] = field(default_factory=list)
    _ids: int = 0

    def __post_init__(self) -> None:
        self.state = BridgeState(charge_point_id=self.charge_point_id)

    def ctx(self) -> Context:
        def new_id() -> str:
            self._ids += 1
            return f"b-{self._ids}"

        return Context(now=lambda: self.now, new_id=new_id, settings=self.settings)

    def _checked(self, step: Step) -> Step:
        self.notes.extend(step.notes)
        for frame in step.to_csms:
            if isinstance(frame, Call):
                _oracle_valid(frame)
        return step

    def charger(self, action: str, payload: dict[str, Any], mid: str = "") -> Step:
        self._ids += 1
        call = Call(mid or f"c-{self._ids}", action, payload)
        return self._checked(from_charger(self.state, call, self.ctx()))

    def csms_call(self, action: str, payload: dict[str, Any]) -> Step:
        self._ids += 1
        return self._checked(
            from_csms(self.state, Call(f"s-{self._ids}", action, payload), self.ctx())
        )

    def csms_answers(self, step: Step, payload: dict[str, Any] | None = None) -> Step:
        """The CSMS answers every call of ``step`` (``{}`` or ``payload``)."""
        out = Step()
        for frame in step.to_csms:
            if isinstance(frame, Call):
                answer = payload if payload is not None else _default_answer(frame)
                out += self._checked(
                    from_csms(self.state, CallResult(frame.message_id, answer), self.ctx())
                )
        return out

    def charger_answers(self, step: Step, payload: dict[str, Any]) -> Step:
        out = Step()
        for frame in step.to_charger:
            if isinstance(frame, Call):
                out += self._checked(
                    from_charger(self.state, CallResult(frame.message_id, payload), self.ctx())
                )
        return out


def _default_answer(call: Call) -> dict[str, Any]:
    if call.action == "BootNotification":
        return {"status": "Accepted", "currentTime": "2026-03-02T08:00:00.000Z", "interval": 60}
    if call.action == "Authorize":
        return {"idTokenInfo": {"status": "Accepted"}}
    if call.action == "Heartbeat":
        return {"currentTime": "2026-03-02T08:00:00.000Z"}
    if call.action == "TransactionEvent" and call.payload["eventType"] == "Started":
        return {"idTokenInfo": {"status": "Accepted"}}
    return {}


def calls(step: Step, action: str) -> list[Call]:
    return [f for f in step.to_csms if isinstance(f, Call) and f.action == action]


def start(connector: int = 1, tag: str = "04A2B3C4", at: str = "2026-03-02T08:00:00Z") -> dict:
    return {"connectorId": connector, "idTag": tag, "meterStart": 100, "timestamp": at}


def status(connector: int, value: str) -> dict[str, Any]:
    return {"connectorId": connector, "errorCode": "NoError", "status": value}


BOOT = {"chargePointVendor": "V", "chargePointModel": "M"}

# -- 1. id-token types ---------------------------------------------------------

RULES = (
    TokenRule(type="KeyCode", regex="[0-9]{6}", chargers=("CP-KEYPAD",)),
    TokenRule(type="Local", prefix="LOC-"),
    TokenRule(type="eMAID", prefix="DE*"),
)


@pytest.mark.parametrize(
    ("tag", "charger", "default", "expected"),
    [
        ("TAG-A1", "CP1", "Central", "Central"),  # not a UID: the default
        ("04A2B3C4", "CP1", "Central", "ISO14443"),  # 4-byte UID
        ("04a2b3c4d5e6f7", "CP1", "Central", "ISO14443"),  # 7-byte UID, lower case
        ("ABC328XYZ", "CP1", "Central", "Central"),  # hex-ish, but X, Y, Z
        ("04A2B3C4D", "CP1", "Central", "Central"),  # 9 hex characters
        ("04A2B3C4D5E6", "CP1", "Central", "Central"),  # 12 hex characters
        ("TAG-A1", "CP1", "Local", "Local"),  # the operator's default
        ("123456", "CP-KEYPAD", "Central", "KeyCode"),  # regex rule, this charger only
        ("123456", "CP1", "Central", "Central"),  # ... not for another charger
        ("LOC-04A2B3C4", "CP1", "Central", "Local"),  # prefix rule, fleet-wide
        ("DE*ABC*123456", "CP1", "Central", "eMAID"),
    ],
)
def test_token_typing_table(tag: str, charger: str, default: str, expected: str) -> None:
    bridge = Bridge(Settings(token_default_type=default, token_rules=RULES), charger)
    (auth,) = calls(bridge.charger("Authorize", {"idTag": tag}), "Authorize")
    assert auth.payload["idToken"] == {"idToken": tag, "type": expected}


def test_rules_are_ordered_first_match_wins() -> None:
    rules = (TokenRule(type="Local", prefix="04"), TokenRule(type="KeyCode", prefix="04A"))
    bridge = Bridge(Settings(token_rules=rules))
    (auth,) = calls(bridge.charger("Authorize", {"idTag": "04A2B3C4"}), "Authorize")
    assert auth.payload["idToken"]["type"] == "Local"


def test_a_tag_keeps_its_type_across_authorize_transaction_events_and_local_lists() -> None:
    bridge = Bridge()
    listed = bridge.csms_call(
        "SendLocalList",
        {
            "versionNumber": 1,
            "updateType": "Full",
            "localAuthorizationList": [
                {"idToken": {"idToken": "TAG-A1", "type": "KeyCode"},
                 "idTokenInfo": {"status": "Accepted"}},
                {"idToken": {"idToken": "04A2B3C4", "type": "ISO14443"},
                 "idTokenInfo": {"status": "Accepted"}},
            ],
        },
    )  # fmt: skip
    bridge.charger_answers(listed, {"status": "Accepted"})
    types = []
    for tag in ("TAG-A1", "04A2B3C4"):
        types.append(calls(bridge.charger("Authorize", {"idTag": tag}), "Authorize")[0])
    started = bridge.charger("StartTransaction", start(tag="TAG-A1"))
    bridge.csms_answers(started)
    ended = bridge.charger(
        "StopTransaction",
        {"transactionId": 1, "meterStop": 200, "timestamp": "2026-03-02T09:00:00Z",
         "idTag": "TAG-A1"},
    )  # fmt: skip
    events = calls(started, "TransactionEvent") + calls(ended, "TransactionEvent")
    assert [c.payload["idToken"]["type"] for c in types] == ["KeyCode", "ISO14443"]
    assert [e.payload["idToken"] for e in events] == [{"idToken": "TAG-A1", "type": "KeyCode"}] * 2


@pytest.mark.parametrize(
    ("token", "why"),
    [
        ({"idToken": "A" * 21, "type": "Central"}, "21 characters"),
        ({"idToken": "E" * 36, "type": "eMAID"}, "36 characters"),
        ({"idToken": "", "type": "NoAuthorization"}, "NoAuthorization"),
    ],
)
def test_tokens_1_6_cannot_carry_are_refused_with_a_note_never_truncated(
    token: dict[str, str], why: str
) -> None:
    bridge = Bridge()
    step = bridge.csms_call("RequestStartTransaction", {"idToken": token, "remoteStartId": 1})
    assert not step.to_charger  # nothing cut and sent
    (answer,) = step.to_csms
    assert isinstance(answer, CallResult) and answer.payload["status"] == "Rejected"
    assert why in answer.payload["statusInfo"]["additionalInfo"]
    assert step.notes[0].kind is NoteKind.LOCAL_ANSWER and why in step.notes[0].detail
    listed = bridge.csms_call(
        "SendLocalList",
        {"versionNumber": 2, "updateType": "Differential",
         "localAuthorizationList": [{"idToken": token, "idTokenInfo": {"status": "Accepted"}}]},
    )  # fmt: skip
    assert not listed.to_charger
    (refused,) = listed.to_csms
    assert isinstance(refused, CallResult) and refused.payload["status"] == "Failed"


def test_a_2_0_1_station_token_longer_than_20_is_answered_by_the_bridge_never_cut() -> None:
    from ocppkit.translators.j201_to_16.session import from_charger as station_up
    from ocppkit.translators.j201_to_16.state import StationState
    from tests.translators.j16_to_201.golden import context

    state = StationState()
    token = {"idToken": "X" * 25, "type": "eMAID"}
    step = station_up(state, Call("a1", "Authorize", {"idToken": token}), context())
    assert not step.to_csms
    assert step.to_charger == (CallResult("a1", {"idTokenInfo": {"status": "Unknown"}}),)
    assert any("longer than 20" in n.detail for n in step.notes)


# -- 2. no transaction left open for ever ------------------------------------


def _open(bridge: Bridge, answer: str = "Accepted", connector: int = 1) -> None:
    bridge.charger("StatusNotification", status(connector, "Preparing"))
    started = bridge.charger("StartTransaction", start(connector))
    bridge.csms_answers(started, {"idTokenInfo": {"status": answer}})


def _new_transaction(bridge: Bridge) -> Step:
    return bridge.charger("StartTransaction", start(1, "TAG-B2", "2026-03-02T08:30:00Z"))


def _reboot(bridge: Bridge) -> Step:
    step = bridge.charger("BootNotification", BOOT)
    bridge.csms_answers(step)
    bridge.now += timedelta(seconds=bridge.settings.dangling_grace)
    return bridge.charger("Heartbeat", {})


def _status_after_grace(value: str) -> Any:
    def run(bridge: Bridge) -> Step:
        first = bridge.charger("StatusNotification", status(1, value))
        bridge.now += timedelta(seconds=bridge.settings.dangling_grace)
        return first + bridge.charger("Heartbeat", {})

    return run


# (case, what the charger does, CSMS answer to the start, rule, triggerReason, stoppedReason)
DANGLING = [
    ("new transaction", _new_transaction, "Accepted", "new_transaction", "AbnormalCondition",
     "Other"),
    ("reboot", _reboot, "Accepted", "reboot", "AbnormalCondition", "Reboot"),
    ("Available", _status_after_grace("Available"), "Accepted", "status", "EVDeparted",
     "EVDisconnected"),
    ("Finishing", _status_after_grace("Finishing"), "Accepted", "status", "AbnormalCondition",
     "Other"),
    ("ConcurrentTx, then Available", _status_after_grace("Available"), "ConcurrentTx", "status",
     "Deauthorized", "DeAuthorized"),
    ("Invalid, then new transaction", _new_transaction, "Invalid", "new_transaction",
     "Deauthorized", "DeAuthorized"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "act", "answer", "rule", "trigger", "stopped"), DANGLING, ids=[d[0] for d in DANGLING]
)
def test_dangling_transaction_is_ended_upstream_by_its_rule(
    case: str, act: Any, answer: str, rule: str, trigger: str, stopped: str
) -> None:
    bridge = Bridge(Settings(dangling_grace=90))
    _open(bridge, answer)
    step = act(bridge)
    (ended,) = [e for e in calls(step, "TransactionEvent") if e.payload["eventType"] == "Ended"]
    assert ended.payload["triggerReason"] == trigger
    assert ended.payload["transactionInfo"] == {
        "transactionId": "b-3",  # the id the bridge minted for the start
        "stoppedReason": stopped,
    }
    seq_nos = [e.payload["seqNo"] for e in calls(step, "TransactionEvent")
               if e.payload["transactionInfo"]["transactionId"] == "b-3"]  # fmt: skip
    assert seq_nos[-1] == ended.payload["seqNo"] > 0
    assert [n.rule for n in step.notes if n.rule] == [rule]
    assert bridge.state.lossy_counts[f"DanglingTransaction.{rule}"] == 1
    assert bridge.state.transaction(1).ended_by == rule  # type: ignore[union-attr]
    # The CSMS's answer settles it; nothing goes to the charger.
    assert not bridge.csms_answers(Step(to_csms=(ended,))).to_charger


@pytest.mark.parametrize("act", [_reboot, _status_after_grace("Available")])
def test_a_stop_within_the_grace_wins_and_nothing_is_ended_twice(act: Any) -> None:
    bridge = Bridge(Settings(dangling_grace=90))
    _open(bridge)
    bridge.now += timedelta(seconds=30)
    bridge.charger("StatusNotification", status(1, "Finishing"))
    stop = {"transactionId": 1, "meterStop": 900, "timestamp": "2026-03-02T08:40:00Z"}
    stopped = bridge.charger("StopTransaction", stop)
    bridge.csms_answers(stopped)
    later = act(bridge)
    assert not [e for e in calls(later, "TransactionEvent") if e.payload["eventType"] == "Ended"]
    assert not any(n.rule for n in bridge.notes)


def test_charging_again_stops_the_grace() -> None:
    bridge = Bridge(Settings(dangling_grace=90))
    _open(bridge)
    bridge.charger("StatusNotification", status(1, "SuspendedEV"))
    bridge.charger("StatusNotification", status(1, "Finishing"))
    bridge.charger("StatusNotification", status(1, "Charging"))
    bridge.now += timedelta(seconds=600)
    assert not calls(bridge.charger("Heartbeat", {}), "TransactionEvent")


def test_a_switched_off_rule_leaves_the_transaction_open() -> None:
    bridge = Bridge(Settings(dangling_grace=0, dangling_rules=("reboot",)))
    _open(bridge)
    step = bridge.charger("StatusNotification", status(1, "Available"))
    assert not [e for e in calls(step, "TransactionEvent") if e.payload["eventType"] == "Ended"]
    assert bridge.state.active_on(1) is not None


def test_a_late_stop_after_the_bridge_ended_it_is_answered_with_a_lossy_note() -> None:
    bridge = Bridge(Settings(dangling_grace=0))
    _open(bridge)
    bridge.csms_answers(bridge.charger("StatusNotification", status(1, "Available")))
    late = bridge.charger(
        "StopTransaction", {"transactionId": 1, "meterStop": 900, "timestamp": "2026-03-02T09:00Z"}
    )
    assert not late.to_csms
    assert [type(f) for f in late.to_charger] == [CallResult]
    assert "meterStop 900 not sent" in late.notes[0].detail


# -- 3. reasons the bridge saw the cause of -----------------------------------


def _stop_without_reason(bridge: Bridge) -> Call:
    stop = {"transactionId": 1, "meterStop": 900, "timestamp": "2026-03-02T09:00:00Z"}
    (ended,) = calls(bridge.charger("StopTransaction", stop), "TransactionEvent")
    return ended


@pytest.mark.parametrize(
    ("charger_says", "stopped", "trigger"),
    [("Accepted", "Remote", "RemoteStop"), ("Rejected", "Local", "StopAuthorized")],
)
def test_a_reasonless_stop_after_a_relayed_remote_stop_is_remote(
    charger_says: str, stopped: str, trigger: str
) -> None:
    bridge = Bridge()
    _open(bridge)
    asked = bridge.csms_call("RequestStopTransaction", {"transactionId": "b-3"})
    assert asked.to_charger == (Call(asked.to_charger[0].message_id, "RemoteStopTransaction",
                                     {"transactionId": 1}),)  # fmt: skip
    bridge.charger_answers(asked, {"status": charger_says})
    ended = _stop_without_reason(bridge)
    assert ended.payload["transactionInfo"]["stoppedReason"] == stopped
    assert ended.payload["triggerReason"] == trigger


def test_a_reasonless_stop_without_a_relayed_remote_stop_stays_local() -> None:
    bridge = Bridge()
    _open(bridge)
    assert _stop_without_reason(bridge).payload["transactionInfo"]["stoppedReason"] == "Local"


def _boot_reason(bridge: Bridge) -> tuple[str, list[Note]]:
    step = bridge.charger("BootNotification", BOOT)
    (boot,) = calls(step, "BootNotification")
    bridge.csms_answers(step)
    return boot.payload["reason"], list(step.notes)


@pytest.mark.parametrize(
    ("command", "payload", "charger_says", "reason"),
    [
        ("Reset", {"type": "Immediate"}, {"status": "Accepted"}, "RemoteReset"),
        ("Reset", {"type": "Immediate"}, {"status": "Rejected"}, "Unknown"),
        ("UpdateFirmware", {"requestId": 7, "firmware": {
            "location": "https://fw.example.org/1.bin",
            "retrieveDateTime": "2026-03-02T08:00:00Z"}}, {}, "FirmwareUpdate"),
        ("TriggerMessage", {"requestedMessage": "BootNotification"}, {"status": "Accepted"},
         "Triggered"),
    ],
)  # fmt: skip
def test_boot_reason_names_the_cause_the_bridge_relayed(
    command: str, payload: dict[str, Any], charger_says: dict[str, Any], reason: str
) -> None:
    bridge = Bridge()
    bridge.charger_answers(bridge.csms_call(command, payload), charger_says)
    got, notes = _boot_reason(bridge)
    assert got == reason
    assert ("relayed no Reset" in " ".join(n.detail for n in notes)) == (reason == "Unknown")
    assert _boot_reason(bridge)[0] == "Unknown"  # the cause is used once


# -- 9c / 9e ------------------------------------------------------------------


def test_firmware_and_log_notifications_carry_the_request_id_the_bridge_relayed() -> None:
    bridge = Bridge()
    firmware = {"location": "https://fw.example.org/1.bin", "retrieveDateTime": "2026-03-02T08:00Z"}
    bridge.charger_answers(
        bridge.csms_call("UpdateFirmware", {"requestId": 82994, "firmware": firmware}), {}
    )
    log = {"remoteLocation": "ftp://logs.example.org/"}
    bridge.charger_answers(
        bridge.csms_call("GetLog", {"requestId": 5, "logType": "DiagnosticsLog", "log": log}),
        {"fileName": "diag.zip"},
    )
    (fw,) = calls(bridge.charger("FirmwareStatusNotification", {"status": "Downloading"}),
                  "FirmwareStatusNotification")  # fmt: skip
    (up,) = calls(bridge.charger("DiagnosticsStatusNotification", {"status": "Uploading"}),
                  "LogStatusNotification")  # fmt: skip
    (idle,) = calls(bridge.charger("FirmwareStatusNotification", {"status": "Idle"}),
                    "FirmwareStatusNotification")  # fmt: skip
    assert fw.payload == {"status": "Downloading", "requestId": 82994}
    assert up.payload == {"status": "Uploading", "requestId": 5}
    assert idle.payload == {"status": "Idle"}


@pytest.mark.parametrize(
    ("name16", "name201"),
    [
        ("InvalidChargePointCertificate", "InvalidChargingStationCertificate"),
        ("InvalidCentralSystemCertificate", "InvalidCsmsCertificate"),
        ("FailedToAuthenticateAtCentralSystem", "FailedToAuthenticateAtCsms"),
        ("CentralSystemFailedToAuthenticate", "CsmsFailedToAuthenticate"),
        ("SettingSystemTime", "SettingSystemTime"),
        ("VendorSpecificThing", "VendorSpecificThing"),
    ],
)
def test_security_event_names_go_through_the_vocabulary_table(name16: str, name201: str) -> None:
    from ocppkit.translators.j201_to_16.session import from_charger as station_up
    from ocppkit.translators.j201_to_16.state import StationState
    from tests.translators.j16_to_201.golden import context

    bridge = Bridge()
    event = {"type": name16, "timestamp": "2026-03-02T08:00:00Z"}
    (up,) = calls(bridge.charger("SecurityEventNotification", event), "SecurityEventNotification")
    assert up.payload["type"] == name201
    back = station_up(StationState(), Call("e", "SecurityEventNotification",
                                           {**event, "type": name201}), context())  # fmt: skip
    (down,) = back.to_csms
    assert isinstance(down, Call) and down.payload["type"] == name16


# -- 9a: milliseconds at most ----------------------------------------------------


def test_microsecond_timestamps_from_the_charger_go_up_as_milliseconds() -> None:
    bridge = Bridge()
    fine = "2026-03-02T03:41:33.383026Z"
    step = bridge.charger("StartTransaction", start(at=fine))
    (event,) = calls(step, "TransactionEvent")
    assert event.payload["timestamp"] == "2026-03-02T03:41:33.383Z"
    assert event.payload["meterValue"][0]["timestamp"] == "2026-03-02T03:41:33.383Z"
    assert any("cut to milliseconds" in n.detail for n in step.notes)
    offset = bridge.charger(
        "StatusNotification",
        {**status(1, "Charging"), "timestamp": "2026-03-02T05:41:33.9999999+02:00"},
    )
    (sn,) = calls(offset, "StatusNotification")  # fmt: skip
    assert sn.payload["timestamp"] == "2026-03-02T05:41:33.999+02:00"  # cut, never rounded up


# -- 9f: the charger decides where 1.6 lets it --------------------------------


def test_unlock_during_a_transaction_and_stop_of_an_unknown_integer_id_reach_the_charger() -> None:
    bridge = Bridge()
    _open(bridge)
    unlock = bridge.csms_call("UnlockConnector", {"evseId": 1, "connectorId": 1})
    assert [f.action for f in unlock.to_charger if isinstance(f, Call)] == ["UnlockConnector"]
    answered = bridge.charger_answers(unlock, {"status": "Unlocked"})
    assert [f.payload for f in answered.to_csms] == [{"status": "Unlocked"}]  # type: ignore[union-attr]
    stop = bridge.csms_call("RequestStopTransaction", {"transactionId": "4711"})
    assert [f.payload for f in stop.to_charger] == [{"transactionId": 4711}]  # type: ignore[union-attr]
    rejected = bridge.charger_answers(stop, {"status": "Rejected"})
    assert [f.payload for f in rejected.to_csms] == [{"status": "Rejected"}]  # type: ignore[union-attr]


# -- 6: shadow answers -----------------------------------------------------------

PROFILE = {
    "id": 31,
    "stackLevel": 0,
    "chargingProfilePurpose": "TxDefaultProfile",
    "chargingProfileKind": "Absolute",
    "chargingSchedule": [
        {
            "id": 31,
            "chargingRateUnit": "A",
            "startSchedule": "2026-03-02T00:00:00Z",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0}],
        }
    ],
}


def _profiles(bridge: Bridge, request_id: int, **criteria: Any) -> tuple[str, list[Call]]:
    step = bridge.csms_call(
        "GetChargingProfiles", {"requestId": request_id, "chargingProfile": criteria}
    )
    assert not step.to_charger  # 1.6 has no such request: the bridge answers
    answer = next(f for f in step.to_csms if isinstance(f, CallResult))
    return answer.payload["status"], calls(step, "ReportChargingProfiles")


def test_get_charging_profiles_is_answered_from_the_profiles_installed_through_the_bridge() -> None:
    bridge = Bridge()
    assert _profiles(bridge, 1) == ("NoProfiles", [])
    refused = bridge.csms_call("SetChargingProfile", {"evseId": 2, "chargingProfile": {
        **PROFILE, "id": 32, "stackLevel": 3}})  # fmt: skip
    bridge.charger_answers(refused, {"status": "Rejected"})
    installed = bridge.csms_call("SetChargingProfile", {"evseId": 1, "chargingProfile": PROFILE})
    bridge.charger_answers(installed, {"status": "Accepted"})
    status_, reports = _profiles(bridge, 2)
    assert status_ == "Accepted"
    assert [r.payload for r in reports] == [
        {"requestId": 2, "chargingLimitSource": "CSO", "evseId": 1, "chargingProfile": [PROFILE]}
    ]
    assert _profiles(bridge, 3, chargingProfilePurpose="TxProfile") == ("NoProfiles", [])
    assert _profiles(bridge, 4, chargingLimitSource=["EMS"]) == ("NoProfiles", [])
    # Same connector, purpose and stack level: 1.6 replaces it, so does the shadow.
    newer = {**PROFILE, "id": 33}
    bridge.charger_answers(
        bridge.csms_call("SetChargingProfile", {"evseId": 1, "chargingProfile": newer}),
        {"status": "Accepted"},
    )
    assert [r.payload["chargingProfile"] for r in _profiles(bridge, 5)[1]] == [[newer]]
    cleared = bridge.csms_call("ClearChargingProfile", {"chargingProfileId": 33})
    bridge.charger_answers(cleared, {"status": "Accepted"})
    assert _profiles(bridge, 6) == ("NoProfiles", [])


def test_get_transaction_status_is_answered_from_the_bridge_queue() -> None:
    bridge = Bridge()
    _open(bridge)

    def status_of(tx: str | None) -> dict[str, Any]:
        payload = {} if tx is None else {"transactionId": tx}
        (answer,) = bridge.csms_call("GetTransactionStatus", payload).to_csms
        assert isinstance(answer, CallResult)
        return answer.payload

    assert status_of("b-3") == {"messagesInQueue": False, "ongoingIndicator": True}
    stop = {"transactionId": 1, "meterStop": 900, "timestamp": "2026-03-02T09:00:00Z"}
    waiting = bridge.charger("StopTransaction", stop)  # the Ended is not answered yet
    assert status_of("b-3") == {"messagesInQueue": True, "ongoingIndicator": False}
    assert status_of(None) == {"messagesInQueue": True}
    bridge.csms_answers(waiting)
    assert status_of("b-3") == {"messagesInQueue": False, "ongoingIndicator": False}
    assert status_of("unknown") == {"messagesInQueue": False, "ongoingIndicator": False}


# -- 9g: EVSE and Connector components in reports ----------------------------------


def test_a_base_report_describes_an_evse_and_a_connector_per_1_6_connector() -> None:
    bridge = Bridge()
    bridge.charger("StatusNotification", status(2, "Charging"))
    asked = bridge.csms_call("GetBaseReport", {"requestId": 9, "reportBase": "FullInventory"})
    config = {"configurationKey": [{"key": "NumberOfConnectors", "readonly": True, "value": "2"}]}
    reports = bridge.charger_answers(asked, config)
    rows = [r for call in calls(reports, "NotifyReport") for r in call.payload["reportData"]]
    by = {
        (r["component"]["name"], r["component"].get("evse", {}).get("id"), r["variable"]["name"]):
        r["variableAttribute"][0].get("value")
        for r in rows
    }  # fmt: skip
    for evse in (1, 2):
        assert by[("EVSE", evse, "Available")] == "true"
        assert by[("Connector", evse, "ConnectorType")] == "Unknown"
    assert by[("EVSE", 2, "AvailabilityState")] == "Occupied"
    assert by[("Connector", 2, "AvailabilityState")] == "Occupied"
    assert by[("EVSE", 1, "AvailabilityState")] is None  # no status seen: no value claimed
    connectors = [r["component"] for r in rows if r["component"]["name"] == "Connector"]
    assert {c["evse"]["connectorId"] for c in connectors} == {1}


@pytest.mark.parametrize(
    ("tag", "expected"), [("04A2B3C4", "ISO14443"), ("TAG-A1", "Central"), ("ABC328XYZ", "Central")]
)
def test_a_1_6_csms_local_list_types_its_tags_as_a_strict_station_accepts(
    tag: str, expected: str
) -> None:
    from ocppkit.translators.j201_to_16.session import from_csms as csms_down
    from ocppkit.translators.j201_to_16.state import StationState
    from tests.translators.j16_to_201.golden import context

    payload = {
        "listVersion": 1,
        "updateType": "Full",
        "localAuthorizationList": [{"idTag": tag, "idTagInfo": {"status": "Accepted"}}],
    }
    step = csms_down(StationState(), Call("l1", "SendLocalList", payload), context())  # fmt: skip
    (sent,) = step.to_charger
    assert isinstance(sent, Call)
    assert sent.payload["localAuthorizationList"][0]["idToken"] == {
        "idToken": tag,
        "type": expected,
    }
