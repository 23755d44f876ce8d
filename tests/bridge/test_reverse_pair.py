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
