"""The OCPP-J frame layer: round trips and one named error per malformed class."""

from __future__ import annotations

import json

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ocppkit.translators.errors import ErrorCode, FrameError
from ocppkit.translators.frames import (
    MAX_MESSAGE_ID_LENGTH,
    Call,
    CallError,
    CallResult,
    call_error_for,
    frame_to_list,
    parse_frame,
    serialize_frame,
)
from ocppkit.translators.versions import OcppVersion

V16, V201 = OcppVersion.V16, OcppVersion.V201

FRAMES = [
    Call("19223201", "BootNotification", {"chargePointVendor": "V", "chargePointModel": "M"}),
    CallResult(
        "19223201", {"status": "Accepted", "currentTime": "2026-01-01T00:00:00Z", "interval": 300}
    ),
    CallError("19223201", "NotImplemented", "unknown action", {"action": "Foo"}),
    CallError("x", "GenericError", "", {}),
]


@pytest.mark.parametrize("frame", FRAMES, ids=lambda f: type(f).__name__)
@pytest.mark.parametrize("version", [V16, V201], ids=str)
def test_every_message_kind_round_trips_through_serialise_and_parse(
    frame: Call | CallResult | CallError, version: OcppVersion
) -> None:
    data = serialize_frame(frame)
    assert parse_frame(data, version) == frame
    assert parse_frame(data.decode(), version) == frame
    assert orjson.loads(data) == frame_to_list(frame)


def test_callerror_without_details_element_is_accepted() -> None:
    assert parse_frame('[4,"1","GenericError","boom"]') == CallError(
        "1", "GenericError", "boom", {}
    )


# (frame text, 1.6 code, 2.0.1 code, message id readable?)
MALFORMED = {
    "not-json": ("[2,'1','Heartbeat',{}]", "FormationViolation", "RpcFrameworkError", None),
    "not-an-array": ('{"a": 1}', "FormationViolation", "RpcFrameworkError", None),
    "empty-array": ("[]", "FormationViolation", "RpcFrameworkError", None),
    "type-not-int": (
        '["2","1","Heartbeat",{}]',
        "FormationViolation",
        "MessageTypeNotSupported",
        None,
    ),
    "type-bool": (
        '[true,"1","Heartbeat",{}]',
        "FormationViolation",
        "MessageTypeNotSupported",
        None,
    ),
    "unknown-type": (
        '[7,"1","Heartbeat",{}]',
        "FormationViolation",
        "MessageTypeNotSupported",
        "1",
    ),
    "callresulterror-2.1": (
        '[5,"1","GenericError","x",{}]',
        "NotSupported",
        "MessageTypeNotSupported",
        "1",
    ),
    "send-2.1": (
        '[6,"1","NotifyPeriodicEventStream",{}]',
        "NotSupported",
        "MessageTypeNotSupported",
        "1",
    ),
    "missing-payload": ('[2,"1","Heartbeat"]', "ProtocolError", "RpcFrameworkError", "1"),
    "too-many-fields": ('[3,"1",{},{}]', "ProtocolError", "RpcFrameworkError", "1"),
    "id-not-string": ('[2,1,"Heartbeat",{}]', "ProtocolError", "RpcFrameworkError", None),
    "id-empty": ('[2,"","Heartbeat",{}]', "ProtocolError", "RpcFrameworkError", None),
    "id-too-long": (
        '[2,"' + "a" * 37 + '","Heartbeat",{}]',
        "ProtocolError",
        "RpcFrameworkError",
        None,
    ),
    "action-not-string": ('[2,"1",5,{}]', "ProtocolError", "RpcFrameworkError", "1"),
    "payload-null": ('[2,"1","Heartbeat",null]', "FormationViolation", "FormatViolation", "1"),
    "payload-array": ('[2,"1","Heartbeat",[]]', "FormationViolation", "FormatViolation", "1"),
    "result-payload-string": ('[3,"1","ok"]', "FormationViolation", "FormatViolation", "1"),
    "error-code-not-string": ('[4,"1",5,"x",{}]', "FormationViolation", "FormatViolation", "1"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_frame_raises_the_error_code_the_spec_names(case: str) -> None:
    text, code16, code201, message_id = MALFORMED[case]
    for version, expected in ((V16, code16), (V201, code201)):
        with pytest.raises(FrameError) as caught:
            parse_frame(text, version)
        assert caught.value.code.wire(version) == expected
        assert caught.value.message_id == message_id


def test_message_id_of_exactly_36_characters_is_accepted() -> None:
    mid = "a" * MAX_MESSAGE_ID_LENGTH
    assert parse_frame(f'[2,"{mid}","Heartbeat",{{}}]').message_id == mid


def test_oversize_frame_is_refused_but_its_call_id_is_still_answered() -> None:
    big = '[2,"abc","DataTransfer",{"vendorId":"v","data":"' + "x" * 5000 + '"}]'
    with pytest.raises(FrameError) as caught:
        parse_frame(big, V16, max_bytes=1024)
    assert caught.value.code is ErrorCode.FORMAT_VIOLATION
    answer = call_error_for(caught.value, V16)
    assert answer is not None and answer.message_id == "abc"
    assert answer.error_code == "FormationViolation"
    assert "1024" in answer.error_description


def test_unreadable_frame_gets_no_callerror_because_there_is_no_id_to_answer() -> None:
    with pytest.raises(FrameError) as caught:
        parse_frame("garbage", V201)
    assert call_error_for(caught.value, V201) is None


def test_payload_error_keeps_the_action_for_logging() -> None:
    with pytest.raises(FrameError) as caught:
        parse_frame('[2,"1","Heartbeat",null]')
    assert caught.value.action == "Heartbeat"


def test_callerror_description_is_cut_to_255_characters() -> None:
    err = FrameError(ErrorCode.GENERIC_ERROR, "x" * 600, message_id="1")
    answer = call_error_for(err, V201)
    assert answer is not None and len(answer.error_description) == 255


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_parse_frame_raises_only_frame_errors_on_arbitrary_bytes(data: bytes) -> None:
    try:
        parse_frame(data, V201)
    except FrameError as exc:
        assert exc.code in ErrorCode
    except Exception as exc:  # pragma: no cover - the property under test
        pytest.fail(f"{type(exc).__name__} escaped parse_frame: {exc}")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=40),
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(st.lists(json_values, max_size=6))
def test_parse_frame_never_crashes_on_any_json_array(value: list[object]) -> None:
    data = json.dumps(value)  # stdlib: any integer size, like a peer may send
    for version in (V16, V201):
        try:
            frame = parse_frame(data, version)
        except FrameError:
            continue
        assert parse_frame(serialize_frame(frame), version) == frame


def test_payload_with_an_integer_beyond_64_bits_still_serialises() -> None:
    frame = Call("1", "DataTransfer", {"vendorId": "v", "data": {"n": 2**70}})
    assert json.loads(serialize_frame(frame)) == [
        2,
        "1",
        "DataTransfer",
        {"vendorId": "v", "data": {"n": 2**70}},
    ]
