"""1.5 journal records -> 1.6 frames (and on to 2.0.1 through the stream chain)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ocppkit.translators.errors import SoapError, TranslationError
from ocppkit.translators.frames import Call, CallError, CallResult, frame_from_list
from ocppkit.translators.journal import Direction, JournalRecord, decode_record, encode_record
from ocppkit.translators.schemas import Kind
from ocppkit.translators.soap15 import (
    StreamState,
    envelope_to_frame,
    fault_envelope,
    frame_id,
    record_to_j16,
)
from ocppkit.translators.validation import Validator
from ocppkit.translators.versions import OcppVersion
from tests.translators.soap15.session15 import CP, session_records

GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "soap15" / "session"
V16, V201 = OcppVersion.V16, OcppVersion.V201
VALIDATOR = Validator()


def _lift_all(records: list[JournalRecord], state: StreamState | None) -> list[JournalRecord]:
    return [record_to_j16(r, state)[0] for r in records]


def _validate(records: list[JournalRecord], version: OcppVersion) -> None:
    actions: dict[str, str] = {}
    for rec in records:
        frame = frame_from_list(rec.message, version)
        if isinstance(frame, Call):
            actions[frame.message_id] = frame.action
            VALIDATOR.validate(version, frame.action, Kind.REQUEST, frame.payload)
        elif isinstance(frame, CallResult):
            action = actions.pop(frame.message_id)  # every result answers a known call
            VALIDATOR.validate(version, action, Kind.RESPONSE, frame.payload)


def test_session_lifts_to_schema_valid_16_frames_matching_the_golden_file() -> None:
    lifted = _lift_all(session_records(), StreamState())
    _validate(lifted, V16)
    text = b"\n".join(encode_record(r) for r in lifted) + b"\n"
    golden = GOLDEN / "lifted-1.6.jsonl"
    if os.environ.get("OCPPKIT_REGEN_GOLDEN"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_bytes(text)
        (GOLDEN / "input-1.5.jsonl").write_bytes(
            b"\n".join(encode_record(r) for r in session_records()) + b"\n"
        )
    assert [decode_record(line) for line in golden.read_bytes().splitlines()] == lifted
    inputs = (GOLDEN / "input-1.5.jsonl").read_bytes().splitlines()
    assert [decode_record(line) for line in inputs] == session_records()


def test_calls_and_results_share_ids_derived_from_ws_addressing() -> None:
    lifted = _lift_all(session_records(), None)
    call, result = (frame_from_list(r.message, V16) for r in lifted[:2])
    assert isinstance(call, Call) and isinstance(result, CallResult)
    assert call.message_id == result.message_id == "00000000-0000-4000-8000-000000000000"
    assert lifted[0].meta["soap15_action"] == "BootNotification"
    assert result.payload["interval"] == 300


def test_occupied_becomes_preparing_before_the_transaction_and_charging_during_it() -> None:
    lifted = _lift_all(session_records(), StreamState())
    statuses = [
        frame.payload["status"]
        for frame in (frame_from_list(r.message, V16) for r in lifted)
        if isinstance(frame, Call) and frame.action == "StatusNotification"
    ]
    assert statuses == ["Available", "Preparing", "Charging", "Available"]


def test_responses_without_relates_to_pair_with_the_oldest_open_request() -> None:
    records = session_records(addressing=False)
    lifted = _lift_all(records, StreamState())
    _validate(lifted, V16)
    with pytest.raises(TranslationError, match="RelatesTo"):
        record_to_j16(records[1], None)


def test_a_fault_becomes_a_call_error_for_the_request() -> None:
    records = session_records()
    state = StreamState()
    record_to_j16(records[0], state)
    fault = fault_envelope(
        SoapError("unknown charger", "Sender", "SecurityError"),
        relates_to="urn:uuid:00000000-0000-4000-8000-000000000000",
    )
    rec = JournalRecord(
        records[1].timestamp, CP, Direction.CSMS_TO_CS, OcppVersion.V15, fault.decode()
    )
    frame, _ = envelope_to_frame(rec, state)
    assert frame == CallError(
        "00000000-0000-4000-8000-000000000000", "SecurityError", "unknown charger", {}
    )
    assert state.open_requests[CP] == []


def test_long_message_ids_are_hashed_to_36_characters() -> None:
    long = "urn:ocppkit:" + "x" * 60
    assert len(frame_id(long)) == 36 and frame_id(long) == frame_id(long)
    assert frame_id("urn:uuid:abc") == "abc"


def test_a_json_record_or_a_bad_envelope_is_refused_with_an_ocppkit_error() -> None:
    rec = session_records()[0]
    with pytest.raises(TranslationError):
        record_to_j16(
            JournalRecord(rec.timestamp, CP, rec.direction, V16, [2, "1", "Heartbeat", {}])
        )
    with pytest.raises(SoapError, match="malformed"):
        record_to_j16(JournalRecord(rec.timestamp, CP, rec.direction, OcppVersion.V15, "<a"))


def test_session_reaches_2_0_1_transaction_events_end_to_end() -> None:
    translate_stream = pytest.importorskip("ocppkit.toolkit.translate_stream")
    chain = translate_stream.translator_for(OcppVersion.V15, V201)
    out = [o for i, r in enumerate(session_records(), 1) for o in chain.feed(r, i).records]
    upstream = [r for r in out if r.ocpp_version is V201]
    calls = [f for f in (frame_from_list(r.message, V201) for r in upstream) if isinstance(f, Call)]
    for call in calls:
        VALIDATOR.validate(V201, call.action, Kind.REQUEST, call.payload)
    events = [c.payload["eventType"] for c in calls if c.action == "TransactionEvent"]
    assert events[0] == "Started" and events[-1] == "Ended" and "Updated" in events
    assert {"BootNotification", "Authorize", "StatusNotification"} <= {c.action for c in calls}
    ended = next(
        c for c in calls if c.action == "TransactionEvent" and c.payload["eventType"] == "Ended"
    )
    assert ended.payload["transactionInfo"]["stoppedReason"] == "Local"  # 1.5 has no reason
