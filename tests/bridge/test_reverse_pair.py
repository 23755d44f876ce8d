"""The same core rules for the reverse pair: a 2.0.1 station on a 1.6 CSMS, in memory."""

from __future__ import annotations

from ocppkit.toolkit.gateway.routes import REVERSE
from ocppkit.translators.frames import Call, CallError, CallResult
from tests.bridge.pair import CHARGER, CSMS, BridgePair

BOOT = {"chargingStation": {"model": "M", "vendorName": "V"}, "reason": "PowerUp"}
BOOT16 = {"currentTime": "2026-03-01T12:00:00.000Z", "interval": 300, "status": "Accepted"}


def booted(**kwargs: object) -> BridgePair:
    pair = BridgePair(route=REVERSE, **kwargs)  # type: ignore[arg-type]
    pair.connect(CSMS)
    pair.connect(CHARGER)
    pair.send(CHARGER, Call("boot", "BootNotification", BOOT))
    (boot,) = pair.csms.calls("BootNotification")
    assert boot.payload["chargePointModel"] == "M"
    pair.answer(CSMS, boot, BOOT16)
    answer = pair.charger.answer_to("boot")
    assert isinstance(answer, CallResult) and answer.payload["status"] == "Accepted"
    return pair


def authorize(message_id: str, tag: str) -> Call:
    return Call(message_id, "Authorize", {"idToken": {"idToken": tag, "type": "ISO14443"}})


def test_the_reverse_pair_sends_one_call_at_a_time_with_the_bridges_own_ids() -> None:
    pair = booted()
    pair.send(CHARGER, authorize("a1", "T1"))
    pair.send(CHARGER, authorize("a2", "T2"))
    (first,) = pair.csms.calls("Authorize")
    assert first.payload == {"idTag": "T1"} and first.message_id not in ("a1", "a2")
    pair.answer(CSMS, first, {"idTagInfo": {"status": "Accepted"}})
    second = pair.csms.calls("Authorize")[1]
    pair.answer(CSMS, second, {"idTagInfo": {"status": "Blocked"}})
    answers = [f for f in pair.charger.wire if f[1] in ("a1", "a2")]
    assert [(f[1], f[2]["idTokenInfo"]["status"]) for f in answers] == [
        ("a1", "Accepted"),
        ("a2", "Blocked"),
    ]


def test_a_16_csms_that_does_not_answer_gives_the_station_internal_error() -> None:
    pair = booted(call_timeout=5)
    pair.send(CHARGER, authorize("a1", "T1"))
    pair.advance(5)
    assert pair.charger.wire[-1][:3] == [4, "a1", "InternalError"]


def test_a_16_command_reaches_the_station_in_201_and_its_answer_comes_back() -> None:
    pair = booted()
    pair.send(CSMS, Call("r1", "Reset", {"type": "Soft"}))
    (reset,) = pair.charger.calls("Reset")
    assert reset.payload == {"type": "OnIdle"}
    pair.answer(CHARGER, reset, {"status": "Accepted"})
    assert pair.csms.answer_to("r1") == CallResult("r1", {"status": "Accepted"})


def test_an_answer_for_an_earlier_station_connection_is_not_delivered() -> None:
    pair = booted()
    pair.send(CHARGER, authorize("a1", "T1"))
    pair.disconnect(CHARGER)
    pair.connect(CHARGER)
    pair.answer(CSMS, pair.csms.calls("Authorize")[0], {"idTagInfo": {"status": "Accepted"}})
    assert pair.charger.wire[1:] == []


def test_a_schema_invalid_16_answer_reaches_the_station_as_internal_error() -> None:
    pair = booted()
    pair.send(CHARGER, authorize("a1", "T1"))
    pair.answer(CSMS, pair.csms.calls("Authorize")[0], {"idTagInfo": {"status": "Maybe"}})
    answer = pair.charger.wire[-1]
    assert answer[:3] == [4, "a1", "InternalError"]
    assert pair.logged("csms_answer_invalid")


def test_a_16_callerror_is_relayed_and_logged() -> None:
    pair = booted()
    pair.send(CHARGER, authorize("a1", "T1"))
    call = pair.csms.calls("Authorize")[0]
    pair.send(CSMS, CallError(call.message_id, "InternalError", "down", {}))
    assert pair.charger.wire[-1][:2] == [4, "a1"]
    assert pair.logged("csms_call_error")[0].fields["action"] == "Authorize"


def event(message_id: str, kind: str, seq: int, trigger: str, **extra: object) -> Call:
    info = {"transactionId": "tx-1", **extra.pop("info", {})}  # type: ignore[dict-item]
    payload = {"eventType": kind, "timestamp": "2026-03-01T12:00:00.000Z", "seqNo": seq,
               "triggerReason": trigger, "transactionInfo": info, **extra}  # fmt: skip
    return Call(message_id, "TransactionEvent", payload)


def register(kwh: float, context: str) -> list[dict[str, object]]:
    sample = {"value": kwh, "context": context, "measurand": "Energy.Active.Import.Register",
              "unitOfMeasure": {"unit": "kWh"}}  # fmt: skip
    return [{"timestamp": "2026-03-01T12:00:00.000Z", "sampledValue": [sample]}]


def test_a_transaction_started_before_authorisation_starts_in_16_once_its_idtoken_is_known() -> (
    None
):
    pair = booted()
    pair.send(CHARGER, event("e0", "Started", 0, "CablePluggedIn",
                             info={"chargingState": "EVConnected"}, evse={"id": 1},
                             meterValue=register(12.345, "Transaction.Begin")))  # fmt: skip
    # Kept by the bridge, answered at once, nothing for the 1.6 CSMS yet.
    assert pair.charger.answer_to("e0") == CallResult("e0", {})
    assert pair.csms.calls("StartTransaction") == []
    pair.send(CHARGER, event("e1", "Updated", 1, "Authorized", info={"chargingState": "Charging"},
                             idToken={"idToken": "T1", "type": "ISO14443"}))  # fmt: skip
    (start,) = pair.csms.calls("StartTransaction")
    assert start.payload["idTag"] == "T1" and start.payload["meterStart"] == 12345
    assert start.payload["connectorId"] == 1
    assert "e1" not in [f[1] for f in pair.charger.wire]  # answered end to end, from the CSMS
    pair.answer(CSMS, start, {"transactionId": 99, "idTagInfo": {"status": "Accepted"}})
    assert pair.charger.answer_to("e1") == CallResult("e1", {"idTokenInfo": {"status": "Accepted"}})
    # The events before the idToken follow, under the CSMS's id, one call at a time.
    (status,) = pair.csms.calls("StatusNotification")
    assert status.payload["status"] == "Preparing"  # EVConnected (§3.4)
    assert pair.csms.calls("MeterValues") == []
    pair.answer(CSMS, status, {})
    (meter,) = pair.csms.calls("MeterValues")
    assert meter.payload["transactionId"] == 99
    assert meter.payload["meterValue"][0]["sampledValue"][0]["value"] == "12.345"
    pair.answer(CSMS, meter, {})
    charging = pair.csms.calls("StatusNotification")[1]  # the Authorized event's Charging
    assert charging.payload["status"] == "Charging"
    pair.answer(CSMS, charging, {})
    pair.send(CHARGER, event("e2", "Ended", 2, "EVCommunicationLost",
                             info={"stoppedReason": "EVDisconnected"},
                             meterValue=register(15.5, "Transaction.End")))  # fmt: skip
    (stop,) = pair.csms.calls("StopTransaction")
    assert stop.payload["transactionId"] == 99 and stop.payload["meterStop"] == 15500
    assert stop.payload["reason"] == "EVDisconnected"


def test_a_remote_started_transaction_takes_the_csms_idtag_when_its_events_carry_none() -> None:
    pair = booted()
    pair.send(CSMS, Call("rs", "RemoteStartTransaction", {"idTag": "R1", "connectorId": 1}))
    (request,) = pair.charger.calls("RequestStartTransaction")
    assert request.payload["idToken"]["idToken"] == "R1" and request.payload["evseId"] == 1
    pair.answer(CHARGER, request, {"status": "Accepted"})
    assert pair.csms.answer_to("rs") == CallResult("rs", {"status": "Accepted"})
    remote_start_id = request.payload["remoteStartId"]
    pair.send(CHARGER, event("e0", "Started", 0, "RemoteStart",
                             info={"remoteStartId": remote_start_id}, evse={"id": 1},
                             meterValue=register(2.0, "Transaction.Begin")))  # fmt: skip
    (start,) = pair.csms.calls("StartTransaction")
    assert start.payload["idTag"] == "R1" and start.payload["meterStart"] == 2000
    pair.answer(CSMS, start, {"transactionId": 7, "idTagInfo": {"status": "Accepted"}})
    (begin,) = pair.csms.calls("MeterValues")  # the Started event's reading, kept
    assert begin.payload["transactionId"] == 7
    pair.answer(CSMS, begin, {})
    pair.send(CSMS, Call("stop", "RemoteStopTransaction", {"transactionId": 7}))
    (stop_request,) = pair.charger.calls("RequestStopTransaction")
    assert stop_request.payload == {"transactionId": "tx-1"}
    pair.answer(CHARGER, stop_request, {"status": "Accepted"})
    assert pair.csms.answer_to("stop") == CallResult("stop", {"status": "Accepted"})
    pair.send(CHARGER, event("e1", "Ended", 1, "RemoteStop", info={"stoppedReason": "Remote"},
                             meterValue=register(3.25, "Transaction.End")))  # fmt: skip
    (stop,) = pair.csms.calls("StopTransaction")
    assert (stop.payload["transactionId"], stop.payload["meterStop"]) == (7, 3250)
    assert stop.payload["reason"] == "Remote"
