"""The 2.1 frame rules of the bridge core, in memory on a virtual clock.

Where 2.1 is spoken (a 2.1 CSMS upstream, a 2.1 station downstream) the bridge reads
SEND (6) and CALLRESULTERROR (5), never answers either, never passes them to a 1.6 or
2.0.1 peer, and itself answers an unusable 2.1 CALLRESULT with a CALLRESULTERROR.
"""

from __future__ import annotations

from ocppkit.toolkit.gateway.routes import CHAIN16_21, DOWN21, FORWARD
from ocppkit.translators.frames import Call, CallResult, CallResultError, Send
from tests.bridge.pair import CHARGER, CSMS, BridgePair

T0 = "2026-03-01T12:00:00.000Z"
BOOT16 = {"chargePointVendor": "V", "chargePointModel": "M"}
BOOT2X = {"chargingStation": {"model": "M", "vendorName": "V"}, "reason": "PowerUp"}
STREAM = {"id": 1, "pending": 0, "basetime": T0, "data": [{"t": 0, "v": "230.1"}]}


def linked(route: object) -> BridgePair:
    pair = BridgePair(route=route)  # type: ignore[arg-type]
    pair.connect(CSMS)
    pair.connect(CHARGER)
    return pair


def test_an_unusable_21_callresult_gets_a_callresulterror_and_the_charger_internal_error() -> None:
    pair = linked(CHAIN16_21)
    pair.send(CHARGER, Call("b1", "BootNotification", BOOT16))
    (boot,) = pair.csms.calls("BootNotification")
    assert boot.payload["chargingStation"] == {"model": "M", "vendorName": "V"}
    pair.answer(CSMS, boot, {"currentTime": T0, "interval": 60, "status": "Maybe"})
    refused = [f for f in pair.csms.wire if f[0] == 5]
    assert len(refused) == 1 and refused[0][1] == boot.message_id
    assert refused[0][2] == "PropertyConstraintViolation" and "status" in refused[0][3]
    assert pair.charger.wire[-1][:3] == [4, "b1", "InternalError"]


def test_an_unusable_201_callresult_gets_no_callresulterror() -> None:
    pair = linked(FORWARD)
    pair.send(CHARGER, Call("b1", "BootNotification", BOOT16))
    (boot,) = pair.csms.calls("BootNotification")
    pair.answer(CSMS, boot, {"currentTime": T0, "interval": 60, "status": "Maybe"})
    assert [f for f in pair.csms.wire if f[0] == 5] == []
    assert pair.charger.wire[-1][:3] == [4, "b1", "InternalError"]


def test_a_21_station_send_is_never_answered_nor_passed_to_the_201_csms() -> None:
    pair = linked(DOWN21)
    before = (len(pair.charger.wire), len(pair.csms.wire))
    pair.send(CHARGER, Send("p1", "NotifyPeriodicEventStream", STREAM))
    assert (len(pair.charger.wire), len(pair.csms.wire)) == before
    assert any(n.action == "NotifyPeriodicEventStream" for n in pair.notes)
    assert pair.logged("send_dropped")


def test_an_invalid_21_send_is_counted_and_still_not_answered() -> None:
    pair = linked(DOWN21)
    pair.send(CHARGER, Send("p1", "NotifyPeriodicEventStream", {"id": "one"}))
    assert pair.charger.wire == [] and pair.csms.wire == []
    assert pair.logged("invalid_send")


def test_a_21_callresulterror_is_logged_and_goes_nowhere() -> None:
    pair = linked(DOWN21)
    pair.send(CHARGER, Call("b1", "BootNotification", BOOT2X))
    (boot,) = pair.csms.calls("BootNotification")
    pair.answer(CSMS, boot, {"currentTime": T0, "interval": 60, "status": "Accepted"})
    assert pair.charger.wire[-1][:2] == [3, "b1"]
    sent = len(pair.csms.wire)
    pair.send(CHARGER, CallResultError("b1", "FormatViolation", "cannot use it"))
    assert len(pair.csms.wire) == sent
    assert pair.count("ocppkit_bridge_result_errors_total", leg="downstream") == 1
    assert pair.logged("peer_refused_our_result")


def test_a_send_on_a_201_connection_is_stray_and_unanswered() -> None:
    pair = linked(FORWARD)
    pair.send(CSMS, Send("p1", "NotifyPeriodicEventStream", STREAM))
    assert pair.csms.wire == [] and pair.charger.wire == []
    assert pair.logged("stray_frame_not_answered")


def test_a_2x_command_through_the_21_station_pair_comes_back_with_its_answer() -> None:
    pair = linked(DOWN21)
    pair.send(CSMS, Call("r1", "Reset", {"type": "OnIdle"}))
    (reset,) = pair.charger.calls("Reset")
    pair.answer(CHARGER, reset, {"status": "Scheduled"})
    answer = pair.csms.answer_to("r1")
    assert isinstance(answer, CallResult) and answer.payload == {"status": "Scheduled"}
