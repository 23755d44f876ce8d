"""The bridge's protocol rules, in memory on a virtual clock (no sockets, no sleeps)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ocppkit.translators.bridge import Side
from ocppkit.translators.bridge.effects import INFO, WARNING
from ocppkit.translators.charger16_csms201 import session as real_translator
from ocppkit.translators.charger16_csms201.state import BridgeState
from ocppkit.translators.context import Context
from ocppkit.translators.frames import Call, CallError, CallResult, Frame
from ocppkit.translators.outcome import NoteKind, Step
from tests.bridge.pair import CHARGER, CSMS, BridgePair

BOOT = {"chargePointModel": "M", "chargePointVendor": "V"}
ACCEPTED_TOKEN = {"idTokenInfo": {"status": "Accepted"}}


def booted(**kwargs: Any) -> BridgePair:
    """Both links up, the charger booted."""
    pair = BridgePair(**kwargs)
    pair.connect(CSMS)
    pair.connect(CHARGER)
    pair.send(CHARGER, Call("boot", "BootNotification", BOOT))
    (boot,) = pair.csms.calls("BootNotification")
    pair.answer(
        CSMS,
        boot,
        {"currentTime": "2026-03-01T12:00:00.000Z", "interval": 300, "status": "Accepted"},
    )
    assert pair.charger.answer_to("boot") == CallResult(
        "boot", {"currentTime": "2026-03-01T12:00:00.000Z", "interval": 300, "status": "Accepted"}
    )
    return pair


def authorize(message_id: str, tag: str = "TAG1") -> Call:
    return Call(message_id, "Authorize", {"idTag": tag})


def start(message_id: str, connector: int = 1, tag: str = "TAG1") -> Call:
    payload = {
        "connectorId": connector,
        "idTag": tag,
        "meterStart": 1000,
        "timestamp": "2026-03-01T12:00:05.000Z",
    }
    return Call(message_id, "StartTransaction", payload)


# -- one call at a time per side ------------------------------------------------------


def test_a_second_charger_call_waits_until_the_csms_answered_the_first() -> None:
    pair = booted()
    pair.send(CHARGER, authorize("a1", "T1"))
    pair.send(CHARGER, authorize("a2", "T2"))  # a misbehaving charger: two at once
    first, *rest = pair.csms.calls("Authorize")
    assert rest == [] and first.payload["idToken"]["idToken"] == "T1"
    pair.answer(CSMS, first, ACCEPTED_TOKEN)
    assert [c.payload["idToken"]["idToken"] for c in pair.csms.calls("Authorize")] == ["T1", "T2"]
    pair.answer(CSMS, pair.csms.calls("Authorize")[1], ACCEPTED_TOKEN)
    assert [a[1] for a in pair.charger.wire[1:]] == ["a1", "a2"]


def test_a_second_csms_command_waits_until_the_charger_answered_the_first() -> None:
    pair = booted()
    pair.send(CSMS, Call("r1", "Reset", {"type": "OnIdle"}))
    pair.send(CSMS, Call("c1", "ClearCache", {}))
    assert [c.action for c in pair.charger.calls()] == ["Reset"]
    pair.answer(CHARGER, pair.charger.calls()[0], {"status": "Accepted"})
    assert pair.csms.answer_to("r1") == CallResult("r1", {"status": "Accepted"})
    assert [c.action for c in pair.charger.calls()] == ["Reset", "ClearCache"]


# -- timeouts ---------------------------------------------------------------------------


def test_a_csms_that_does_not_answer_gives_the_charger_internal_error() -> None:
    pair = booted(call_timeout=5)
    pair.send(CHARGER, authorize("a1"))
    pair.advance(4.9)
    assert [f[1] for f in pair.charger.wire] == ["boot"]
    assert pair.core.deadline is not None
    pair.advance(0.2)
    answer = pair.charger.wire[-1]
    assert answer[:3] == [4, "a1", "InternalError"]
    assert "did not answer Authorize within 5 s" in answer[3]
    assert pair.count("ocppkit_bridge_timeouts_total", leg="upstream") == 1
    assert pair.stored_outbox == {}  # given up: the row is gone


def test_a_charger_that_does_not_answer_gives_the_csms_internal_error() -> None:
    pair = booted(call_timeout=5)
    pair.send(CSMS, Call("r1", "Reset", {"type": "Immediate"}))
    assert pair.charger.calls("Reset")
    pair.advance(5)
    answer = pair.csms.answer_to("r1")
    assert isinstance(answer, CallError) and answer.error_code == "InternalError"
    assert pair.count("ocppkit_bridge_timeouts_total", leg="downstream") == 1


def test_a_charger_that_disconnects_gives_the_csms_internal_error_at_once() -> None:
    pair = booted()
    pair.send(CSMS, Call("r1", "Reset", {"type": "Immediate"}))
    pair.disconnect(CHARGER)
    answer = pair.csms.answer_to("r1")
    assert isinstance(answer, CallError) and answer.error_code == "InternalError"
    pair.send(CSMS, Call("r2", "Reset", {"type": "Immediate"}))  # nobody to ask
    assert pair.csms.answer_to("r2").error_code == "InternalError"  # type: ignore[union-attr]


def test_a_charger_back_before_its_old_connection_was_seen_closing_frees_the_csms_at_once() -> None:
    """Answers are per connection: a call out on connection A is lost once B opens.

    Seen in the tzi-OCTT run (TC_028 -> TC_030): the suite closes and reconnects
    at once; B's attach came before A's detach, and the CSMS's next command
    waited for A's call to time out.
    """
    pair = booted(call_timeout=30)
    pair.send(CSMS, Call("r1", "Reset", {"type": "Immediate"}))
    assert pair.charger.calls("Reset")
    pair.charger.endpoint.close()  # connection A is gone; the shell has not noticed yet
    pair.connect(CHARGER)  # connection B comes first
    answer = pair.csms.answer_to("r1")
    assert isinstance(answer, CallError) and answer.error_code == "InternalError"
    pair.send(CSMS, Call("r2", "Reset", {"type": "Immediate"}))
    assert len(pair.charger.calls("Reset")) == 2  # on connection B, without waiting 30 s


def test_after_a_timeout_the_upstream_slot_stays_busy_until_the_late_answer() -> None:
    """#16 item 10: a CSMS slower than call_timeout never sees two calls at once."""
    pair = booted(call_timeout=5)
    pair.send(CHARGER, authorize("a1", "T1"))
    pair.advance(5)
    assert pair.charger.wire[-1][:3] == [4, "a1", "InternalError"]
    pair.send(CHARGER, authorize("a2", "T2"))
    assert len(pair.csms.calls("Authorize")) == 1  # still waiting for the CSMS
    pair.advance(2)  # the CSMS answers a1 at last, after 7 s
    pair.answer(CSMS, pair.csms.calls("Authorize")[0], ACCEPTED_TOKEN)
    assert pair.count("ocppkit_bridge_late_answers_total", leg="upstream") == 1
    assert not any(f[1] == "a1" and f[0] == 3 for f in pair.charger.wire)  # not answered twice
    second = pair.csms.calls("Authorize")[1]
    assert second.payload["idToken"]["idToken"] == "T2"
    pair.answer(CSMS, second, ACCEPTED_TOKEN)
    assert pair.charger.wire[-1][:2] == [3, "a2"]


def test_a_call_never_answered_after_its_timeout_recycles_the_upstream_link() -> None:
    pair = booted(call_timeout=5)
    pair.send(CHARGER, authorize("a1"))
    pair.advance(5)
    assert pair.recycled == []
    pair.advance(5)
    assert pair.recycled == [CSMS]
    pair.disconnect(CSMS)  # what the shell does
    pair.connect(CSMS)
    pair.send(CHARGER, authorize("a2", "T2"))
    assert pair.csms.calls("Authorize")[-1].payload["idToken"]["idToken"] == "T2"


# -- answers, connections and ids ----------------------------------------------------------


def test_an_answer_is_never_delivered_on_a_newer_connection_than_the_call() -> None:
    """#16 item 4: connection A's answers never reach connection B."""
    pair = booted()
    pair.send(CHARGER, start("a-start"))
    pair.disconnect(CHARGER)
    pair.connect(CHARGER)  # connection B, which has sent nothing
    (event,) = pair.csms.calls("TransactionEvent")
    pair.answer(CSMS, event, ACCEPTED_TOKEN)
    seen_on_b = pair.charger.wire[1:]
    assert seen_on_b == []
    assert pair.count("ocppkit_bridge_answers_dropped_total", leg="downstream") == 1


def test_upstream_ids_are_the_bridges_own_so_a_reused_id_after_a_reboot_gets_its_own_answer() -> (
    None
):
    """#16 item 5: the charger's "2" before and after a reboot are different calls."""
    pair = booted()
    pair.send(CHARGER, authorize("2"))
    pair.disconnect(CHARGER)  # reboot
    pair.connect(CHARGER)
    pair.send(CHARGER, Call("2", "StatusNotification", {
        "connectorId": 1, "errorCode": "NoError", "status": "Available",
    }))  # fmt: skip
    sent_ids = [c.message_id for c in pair.csms.calls()]
    assert "2" not in sent_ids and len(set(sent_ids)) == len(sent_ids)
    pair.answer(CSMS, pair.csms.calls("Authorize")[0], ACCEPTED_TOKEN)  # for the old "2"
    (status,) = pair.csms.calls("StatusNotification")
    pair.answer(CSMS, status, {})
    assert pair.charger.wire[1:] == [[3, "2", {}]]  # the StatusNotification's answer only


def test_a_retried_start_transaction_is_answered_from_state() -> None:
    pair = booted()
    pair.send(CHARGER, start("s1"))
    (event,) = pair.csms.calls("TransactionEvent")
    pair.answer(CSMS, event, ACCEPTED_TOKEN)
    first = pair.charger.answer_to("s1")
    assert isinstance(first, CallResult)
    pair.send(CHARGER, start("s2"))  # the same start, retried (its answer was lost)
    second = pair.charger.wire[-1]
    assert second[:2] == [3, "s2"]
    assert second[2]["transactionId"] == first.payload["transactionId"]
    assert len(pair.csms.calls("TransactionEvent")) == 1  # nothing new upstream


def test_a_restart_resends_the_outbox_with_the_same_bridge_id() -> None:
    pair = booted()
    pair.send(CHARGER, authorize("a1"))
    (sent,) = pair.csms.calls("Authorize")
    pair.restart()  # kill -9 before the answer
    pair.connect(CSMS)
    pair.connect(CHARGER)
    again = pair.csms.calls("Authorize")
    assert [c.message_id for c in again] == [sent.message_id, sent.message_id]
    pair.answer(CSMS, again[-1], ACCEPTED_TOKEN)
    # The charger of the old process is gone: its answer is not sent to the new one.
    assert [f[1] for f in pair.charger.wire] == ["boot"]
    assert pair.stored_outbox == {}


# -- early answers and commits ---------------------------------------------------------------


def test_a_csms_answer_that_is_only_answers_for_the_charger_goes_before_its_commit() -> None:
    pair = booted()
    pair.send(CHARGER, authorize("a1"))
    (call,) = pair.csms.calls("Authorize")
    before = len(pair.effects)
    pair.answer(CSMS, call, ACCEPTED_TOKEN)
    answered = pair.effects[before]
    assert answered.early and answered.commit is not None
    assert answered.commit.outbox_done == (call.message_id,)
    assert [f.message_id for f in answered.to_charger] == ["a1"]


def test_a_charger_call_is_committed_before_it_goes_upstream() -> None:
    pair = booted(overlap=False)  # overlap_commits = false
    before = len(pair.effects)
    pair.send(CHARGER, authorize("a1"))
    received, sent = pair.effects[before], pair.effects[before + 1]
    assert received.commit is not None and not received.early and received.to_csms == ()
    assert [c.action for c in received.commit.outbox_add] == ["Authorize"]
    assert sent.commit is None and [c.action for c in sent.to_csms] == ["Authorize"]  # type: ignore[union-attr]


def test_an_early_answer_whose_commit_failed_is_redone_from_the_outbox() -> None:
    pair = booted()
    pair.send(CHARGER, authorize("a1"))
    (call,) = pair.csms.calls("Authorize")
    pair.fail_commits = 1
    pair.answer(CSMS, call, ACCEPTED_TOKEN)
    assert pair.charger.wire[-1][:2] == [3, "a1"]  # it went early
    again = pair.csms.calls("Authorize")
    assert [c.message_id for c in again] == [call.message_id] * 2  # sent again
    pair.answer(CSMS, again[-1], ACCEPTED_TOKEN)
    assert pair.stored_outbox == {}
    assert [f[1] for f in pair.charger.wire].count("a1") == 1  # the repeat reaches nobody


def test_a_charger_call_whose_commit_failed_is_not_acknowledged_nor_sent() -> None:
    pair = booted(overlap=False)  # overlap_commits = false
    pair.fail_commits = 1
    pair.send(CHARGER, authorize("a1"))
    assert pair.csms.calls("Authorize") == []
    assert [f[1] for f in pair.charger.wire] == ["boot"]
    pair.send(CHARGER, authorize("a2"))  # the charger's retry
    assert len(pair.csms.calls("Authorize")) == 1


# -- refusals ------------------------------------------------------------------------------------


def test_a_schema_invalid_charger_call_is_refused_and_nothing_goes_upstream() -> None:
    pair = booted()
    pair.send(CHARGER, Call("x", "Authorize", {"idTag": 5}))
    answer = pair.charger.wire[-1]
    assert answer[:3] == [4, "x", "TypeConstraintViolation"]
    assert pair.csms.calls("Authorize") == []


def test_an_unknown_action_is_refused_not_implemented() -> None:
    pair = booted()
    pair.send(CHARGER, Call("x", "MakeCoffee", {}))
    assert pair.charger.wire[-1][:3] == [4, "x", "NotImplemented"]


class FailsOnHeartbeat:
    """The real translator, with a fault injected: Heartbeat crashes it mid-way."""

    def from_charger(self, state: BridgeState, frame: Frame, ctx: Context) -> Step:
        if isinstance(frame, Call) and frame.action == "Heartbeat":
            state.next_tx_id16 += 1000  # half-done work that must not survive
            raise RuntimeError("secret internal detail")
        return real_translator.from_charger(state, frame, ctx)

    def from_csms(self, state: BridgeState, frame: Frame, ctx: Context) -> Step:
        return real_translator.from_csms(state, frame, ctx)


def test_a_translator_crash_is_an_internal_error_without_details_and_undone() -> None:
    pair = booted(translator=FailsOnHeartbeat())
    pair.send(CHARGER, Call("hb", "Heartbeat", {}))
    assert pair.charger.wire[-1] == [4, "hb", "InternalError", "internal error", {}]
    assert pair.core.state.next_tx_id16 == BridgeState().next_tx_id16
    assert pair.count("ocppkit_bridge_translation_errors_total", reason="RuntimeError") == 1


# -- malformed frames, answers to answers, 2.1 frames ---------------------------------------------


def deep_text(message_type: int, depth: int = 260) -> str:
    """A frame nesting ``depth`` levels (json, not orjson: orjson stops at 255)."""
    value: Any = {}
    for _ in range(depth - 2):
        value = {"a": value}
    body: list[Any] = {
        2: [2, "deep", "DataTransfer", {"vendorId": "v", "data": value}],
        3: [3, "deep", {"data": value}],
    }[message_type]
    return json.dumps(body)


@pytest.mark.parametrize(
    ("side", "code"), [(CHARGER, "FormationViolation"), (CSMS, "FormatViolation")]
)
def test_a_call_nested_deeper_than_the_limit_gets_a_format_violation(side: Side, code: str) -> None:
    """#16 item 6: a call 260 levels deep is answered, on either side."""
    pair = booted()
    pair.send(side, deep_text(2))
    assert pair.peer(side).wire[-1][:3] == [4, "deep", code]
    leg = "downstream" if side is CHARGER else "upstream"
    assert pair.count("ocppkit_bridge_frame_errors_total", leg=leg, code="FormatViolation") == 1
    assert pair.effects[-1].received is not None or any(
        e.received is not None and e.received.error for e in pair.effects
    )


def test_a_deep_csms_answer_is_not_answered_and_the_charger_gets_its_timeout() -> None:
    pair = booted(call_timeout=5)
    pair.send(CHARGER, authorize("a1"))
    (call,) = pair.csms.calls("Authorize")
    pair.send(CSMS, deep_text(3).replace('"deep"', f'"{call.message_id}"'))
    assert pair.csms.wire[-1][2] == "Authorize"  # nothing answered the answer
    pair.advance(5)
    assert pair.charger.wire[-1][:3] == [4, "a1", "InternalError"]


ANSWERS = [
    '[3,"zz",[]]',
    '[3,"zz",{}]',
    '[4,"zz","GenericError","x",{}]',
    '[4,"zz",5,"x",{}]',
    '[5,"zz","GenericError","x",{}]',
    '[6,"zz","NotifyPeriodicEventStream",{}]',
]


@pytest.mark.parametrize("side", [CHARGER, CSMS])
@pytest.mark.parametrize("text", ANSWERS)
def test_an_answer_or_a_21_frame_is_never_answered_nor_passed_on(side: Side, text: str) -> None:
    """#16 item 12: no answer to an answer; 2.1 frames never reach a 1.6 / 2.0.1 peer."""
    pair = booted()
    before = (len(pair.charger.wire), len(pair.csms.wire))
    pair.send(side, text)
    assert (len(pair.charger.wire), len(pair.csms.wire)) == before
    leg = "downstream" if side is CHARGER else "upstream"
    assert pair.count("ocppkit_bridge_stray_frames_total", leg=leg) == 1
    assert pair.logged("stray_frame_not_answered")


def test_an_unreadable_frame_with_no_id_gets_no_answer_but_is_counted() -> None:
    pair = booted()
    pair.send(CHARGER, "garbage")
    assert [f[1] for f in pair.charger.wire] == ["boot"]
    assert pair.logged("malformed_frame")


def test_a_malformed_call_with_an_id_gets_the_code_the_frame_layer_names() -> None:
    pair = booted()
    pair.send(CHARGER, '[2,"m1","Heartbeat"]')
    assert pair.charger.wire[-1][:3] == [4, "m1", "ProtocolError"]
    pair.send(CSMS, '[2,"m2","Reset"]')
    assert pair.csms.wire[-1][:3] == [4, "m2", "RpcFrameworkError"]


# -- the CSMS's mistakes -----------------------------------------------------------------------


def test_a_schema_invalid_csms_answer_reaches_the_charger_as_internal_error() -> None:
    """#16 item 11: the code must not blame the charger's payload."""
    pair = booted()
    pair.send(CHARGER, authorize("a1"))
    (call,) = pair.csms.calls("Authorize")
    pair.answer(CSMS, call, {"idTokenInfo": {"status": "NotAStatus"}, "extra": 1})
    answer = pair.charger.wire[-1]
    assert answer[:3] == [4, "a1", "InternalError"]
    assert "Violation" not in answer[3] and "NotAStatus" not in answer[3]
    (logged,) = pair.logged("csms_answer_invalid")
    assert logged.fields["action"] == "Authorize" and logged.level == WARNING


def test_a_csms_callerror_is_logged_at_info_with_action_and_code() -> None:
    """#15 item 8."""
    pair = booted()
    pair.send(CHARGER, authorize("a1"))
    (call,) = pair.csms.calls("Authorize")
    pair.send(CSMS, CallError(call.message_id, "SecurityError", "no", {}))
    (logged,) = pair.logged("csms_call_error")
    assert logged.level == INFO
    assert logged.fields["action"] == "Authorize" and logged.fields["code"] == "SecurityError"
    assert pair.charger.wire[-1][:2] == [4, "a1"]


# -- Heartbeat while the CSMS is busy ---------------------------------------------------------


def test_a_heartbeat_is_answered_from_the_bridges_clock_while_a_csms_command_is_outstanding() -> (
    None
):
    """#15 item 5: the CSMS waits for our answer to its command, so it would hold ours."""
    pair = booted()
    pair.send(CSMS, Call("r1", "Reset", {"type": "OnIdle"}))
    pair.advance(12)
    pair.send(CHARGER, Call("hb", "Heartbeat", {}))
    assert pair.charger.wire[-1] == [3, "hb", {"currentTime": "2026-03-01T12:00:12.000Z"}]
    assert pair.csms.calls("Heartbeat") == []
    assert any(n.kind is NoteKind.LOCAL_ANSWER and n.action == "Heartbeat" for n in pair.notes)
    assert pair.core.last_seen[CHARGER] == pair.now


def test_a_heartbeat_is_answered_locally_while_the_upstream_slot_is_busy() -> None:
    pair = booted()
    pair.send(CHARGER, authorize("a1"))
    pair.send(CHARGER, Call("hb", "Heartbeat", {}))
    assert pair.charger.wire[-1][:2] == [3, "hb"]
    assert pair.csms.calls("Heartbeat") == []


def test_a_heartbeat_goes_upstream_when_the_csms_is_free() -> None:
    pair = booted()
    pair.send(CHARGER, Call("hb", "Heartbeat", {}))
    (sent,) = pair.csms.calls("Heartbeat")
    pair.answer(CSMS, sent, {"currentTime": "2026-03-01T12:00:00.500Z"})
    assert pair.charger.wire[-1] == [3, "hb", {"currentTime": "2026-03-01T12:00:00.500Z"}]


# -- one charger must not hurt the others ----------------------------------------------------


def test_a_flooding_charger_is_refused_beyond_its_in_flight_cap() -> None:
    """#16 item 9: a charger that never waits cannot fill the outbox."""
    pair = BridgePair()
    pair.core.max_in_flight = 3
    pair.connect(CSMS)
    pair.connect(CHARGER)
    for i in range(6):
        pair.send(CHARGER, authorize(f"a{i}", f"T{i}"))
    assert len(pair.stored_outbox) == 3
    refused = [f for f in pair.charger.wire if f[0] == 4]
    assert [f[1] for f in refused] == ["a3", "a4", "a5"]
    assert all(f[2] == "GenericError" and "in flight" in f[3] for f in refused)
    assert pair.count("ocppkit_bridge_in_flight_refusals_total") == 3
    pair.answer(CSMS, pair.csms.calls("Authorize")[0], ACCEPTED_TOKEN)
    pair.send(CHARGER, authorize("a6", "T6"))  # room again
    stored = [c.payload["idToken"]["idToken"] for c in pair.stored_outbox.values()]
    assert stored == ["T1", "T2", "T6"]
