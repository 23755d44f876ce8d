"""The OCPP-J endpoint on its own: one call per direction, generations, deadlines."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ocppkit.translators.bridge import (
    AnswerArrived,
    BadFrame,
    CallArrived,
    CallLost,
    CallTimedOut,
    Endpoint,
    EndpointBusy,
    RecycleDue,
    StrayFrame,
)
from ocppkit.translators.frames import Call, CallError, CallResult
from ocppkit.translators.versions import OcppVersion

T0 = datetime(2026, 3, 1, tzinfo=UTC)
V16, V201 = OcppVersion.V16, OcppVersion.V201


def opened(version: OcppVersion = V201, timeout: float = 10) -> Endpoint:
    ep = Endpoint(version, call_timeout=timeout)
    ep.open()
    return ep


def test_only_one_call_of_ours_is_outstanding_at_a_time() -> None:
    ep = opened()
    ep.send_call(Call("1", "Heartbeat", {}), T0)
    with pytest.raises(EndpointBusy):
        ep.send_call(Call("2", "Heartbeat", {}), T0)
    event = ep.receive('[3,"1",{"currentTime":"x"}]', T0)
    assert isinstance(event, AnswerArrived) and event.call.message_id == "1"
    assert ep.ready


def test_no_call_is_sent_without_a_connection() -> None:
    with pytest.raises(EndpointBusy):
        Endpoint(V201, call_timeout=1).send_call(Call("1", "Heartbeat", {}), T0)


def test_an_answer_with_another_id_is_stray_and_keeps_the_slot_busy() -> None:
    ep = opened()
    ep.send_call(Call("1", "Heartbeat", {}), T0)
    assert isinstance(ep.receive('[3,"2",{}]', T0), StrayFrame)
    assert ep.busy


def test_the_timeout_is_a_deadline_then_a_recycle_point_and_the_slot_stays_busy() -> None:
    ep = opened(timeout=10)
    ep.send_call(Call("1", "Heartbeat", {}), T0)
    assert ep.deadline == T0 + timedelta(seconds=10)
    assert ep.expire(T0 + timedelta(seconds=9)) is None
    assert isinstance(ep.expire(T0 + timedelta(seconds=10)), CallTimedOut)
    assert ep.busy and ep.deadline == T0 + timedelta(seconds=20)
    assert isinstance(ep.expire(T0 + timedelta(seconds=20)), RecycleDue)
    late = ep.receive('[3,"1",{}]', T0 + timedelta(seconds=21))
    assert isinstance(late, AnswerArrived) and late.late and ep.ready


def test_a_closed_connection_loses_the_outstanding_call_and_what_it_owed() -> None:
    ep = opened()
    assert isinstance(ep.receive('[2,"p1","Reset",{}]', T0), CallArrived)
    ep.send_call(Call("1", "Heartbeat", {}), T0)
    assert ep.close() == CallLost(Call("1", "Heartbeat", {}), timed_out=False)
    generation = ep.open()
    assert ep.answer(CallResult("p1", {}), generation - 1) is None
    assert isinstance(ep.receive('[3,"1",{}]', T0), StrayFrame)


def test_our_answer_is_released_only_on_the_generation_the_call_came_on() -> None:
    ep = opened()
    event = ep.receive('[2,"p1","Reset",{}]', T0)
    assert isinstance(event, CallArrived)
    assert ep.owed == 1
    ep.open()  # the peer reconnected (without a close seen first)
    ep.receive('[2,"p1","Reset",{}]', T0)  # and reused the id
    assert ep.answer(CallResult("p1", {}), event.generation) is None
    assert ep.answer(CallResult("p1", {"status": "Accepted"}), ep.generation) is not None
    assert ep.answer(CallResult("p1", {}), ep.generation) is None  # only once


def test_a_callerror_for_a_frame_that_never_was_a_call_goes_out() -> None:
    ep = opened()
    error = CallError("x", "FormatViolation", "", {})
    assert ep.answer(error, ep.generation) == error


@pytest.mark.parametrize("version", [V16, V201])
def test_a_call_nested_too_deeply_is_a_bad_frame_with_its_reply(version: OcppVersion) -> None:
    text = '[2,"d","DataTransfer",{"vendorId":"v","data":' + '{"a":' * 70 + "1" + "}" * 70 + "}]"
    event = opened(version).receive(text, T0)
    assert isinstance(event, BadFrame) and event.reply is not None
    assert event.reply.error_code == ("FormationViolation" if version is V16 else "FormatViolation")


def test_a_payload_exactly_at_the_depth_limit_is_accepted() -> None:
    inner = '{"a":' * 61 + "1" + "}" * 61  # frame array + payload + 61 = 63 levels
    text = '[2,"d","DataTransfer",{"vendorId":"v","data":' + inner + "}]"
    assert isinstance(opened().receive(text, T0), CallArrived)


@pytest.mark.parametrize(
    "text",
    ['[3,"1",[]]', '[4,"1",5,"x",{}]', '[5,"1","GenericError","x",{}]', '[6,"1","X",{}]'],
)
def test_broken_answers_and_21_frames_are_stray_never_bad_frames(text: str) -> None:
    event = opened(V16).receive(text, T0)
    assert isinstance(event, StrayFrame)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=120))
def test_any_text_becomes_an_event_never_an_exception(text: str) -> None:
    assert opened().receive(text, T0) is not None


_JSON = st.one_of(
    st.none(),
    st.integers(),
    st.text(max_size=5),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


@settings(max_examples=300, deadline=None)
@given(
    st.integers(3, 6), st.one_of(st.text(max_size=40), st.integers()), st.lists(_JSON, max_size=4)
)
def test_no_answer_shaped_frame_is_ever_answered(
    kind: int, message_id: object, rest: list[object]
) -> None:
    event = opened().receive(json.dumps([kind, message_id, *rest]), T0)
    assert not (isinstance(event, BadFrame) and event.reply is not None)
