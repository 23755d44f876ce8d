"""The journal record: the format every part of ocppkit reads and writes."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import jsonschema
import orjson
import pytest

from ocppkit.toolkit.journal_writer import JournalWriter
from ocppkit.toolkit.textio import iter_lines
from ocppkit.translators.errors import JournalError
from ocppkit.translators.journal import (
    Direction,
    JournalRecord,
    Leg,
    decode_record,
    encode_record,
    format_timestamp,
    journal_schema,
)
from ocppkit.translators.versions import OcppVersion

RECORD = JournalRecord(
    timestamp="2026-03-02T08:00:00.000Z",
    charge_point_id="CP-001",
    direction=Direction.CS_TO_CSMS,
    ocpp_version=OcppVersion.V16,
    message=[2, "1", "Heartbeat", {}],
)


def test_record_round_trips_through_encode_and_decode() -> None:
    full = JournalRecord(**{**RECORD.to_dict(), "direction": Direction.CSMS_TO_CS,
                            "ocpp_version": OcppVersion.V201, "leg": Leg.UPSTREAM,
                            "seq": 7, "meta": {"note": "x"}})  # fmt: skip
    for record in (RECORD, full):
        assert decode_record(encode_record(record)) == record


def test_soap_record_carries_the_envelope_as_a_string() -> None:
    soap = JournalRecord(**{**RECORD.to_dict(), "direction": Direction.CS_TO_CSMS,
                            "ocpp_version": OcppVersion.V15, "message": "<Envelope/>"})  # fmt: skip
    assert decode_record(encode_record(soap)).message == "<Envelope/>"


def test_every_encoded_record_validates_against_the_published_schema() -> None:
    checker = jsonschema.Draft7Validator(
        journal_schema(), format_checker=jsonschema.FormatChecker()
    )
    checker.validate(orjson.loads(encode_record(RECORD)))


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"direction": "up"}, "direction"),
        ({"ocpp_version": "1.2"}, "ocpp_version"),
        ({"timestamp": "2026-03-02T08:00:00+01:00"}, "timestamp"),
        ({"message": 5}, "message"),
        ({"charge_point_id": ""}, "charge_point_id"),
        ({"unexpected": 1}, "unexpected"),
    ],
)
def test_malformed_record_is_refused_with_a_reason(change: dict[str, object], reason: str) -> None:
    obj = {**RECORD.to_dict(), **change}
    with pytest.raises(JournalError, match=reason):
        decode_record(orjson.dumps(obj))


def test_missing_field_and_non_json_are_refused() -> None:
    obj = RECORD.to_dict()
    del obj["direction"]
    with pytest.raises(JournalError, match="direction"):
        decode_record(orjson.dumps(obj))
    with pytest.raises(JournalError, match="not JSON"):
        decode_record(b"{oops")


def test_timestamps_are_written_in_utc_with_a_z() -> None:
    local = datetime(2026, 3, 2, 9, 0, tzinfo=timezone(timedelta(hours=1)))
    assert format_timestamp(local) == "2026-03-02T08:00:00.000Z"
    with pytest.raises(JournalError):
        format_timestamp(datetime(2026, 3, 2))  # naive: which zone?


def test_writer_rotates_by_size_and_readers_see_every_record(tmp_path: Path) -> None:
    with JournalWriter(tmp_path, max_bytes=500) as writer:
        for _ in range(20):
            writer.write(RECORD)
    files = sorted(tmp_path.glob("journal-*.jsonl"))
    assert len(files) > 1
    records = [decode_record(line) for f in files for _, line in iter_lines(f)]
    assert [r.seq for r in records] == list(range(20))


def test_gzipped_journal_reads_back_transparently(tmp_path: Path) -> None:
    with JournalWriter(tmp_path, compress=True) as writer:
        writer.write(RECORD)
        writer.write(RECORD)
    (path,) = tmp_path.glob("journal-*.jsonl.gz")
    with gzip.open(path) as fh:
        assert len(fh.read().splitlines()) == 2
    assert [decode_record(line).charge_point_id for _, line in iter_lines(path)] == ["CP-001"] * 2


def test_format_timestamp_of_utc_now_is_accepted_by_the_schema() -> None:
    stamp = format_timestamp(datetime.now(UTC))
    decode_record(orjson.dumps({**RECORD.to_dict(), "timestamp": stamp}))


def test_hand_written_record_check_agrees_with_the_published_schema() -> None:
    from ocppkit.translators.journal import _check, _is_record
    from tests.test_schema_compiler import mutations

    full = {**RECORD.to_dict(), "leg": "upstream", "seq": 3, "meta": {"a": 1}}
    schema_check = _check()
    for base in (RECORD.to_dict(), full):
        for candidate in mutations(base):
            try:
                schema_check(candidate)
                expected = True
            except Exception:
                expected = False
            assert _is_record(candidate) is expected, candidate


def test_a_writer_given_flush_soon_flushes_once_per_scheduled_turn(tmp_path: Path) -> None:
    scheduled: list[Callable[[], None]] = []
    writer = JournalWriter(tmp_path, flush_soon=scheduled.append)
    for _ in range(3):
        writer.write(RECORD)
    (path,) = tmp_path.glob("journal-*.jsonl")
    assert len(scheduled) == 1  # one flush for the turn, not one per record
    assert path.read_bytes() == b""  # still buffered: this turn has not ended
    scheduled.pop()()
    assert len(path.read_bytes().splitlines()) == 3
    writer.write(RECORD)
    assert len(scheduled) == 1  # the next turn schedules its own flush
    writer.close()
    assert len(path.read_bytes().splitlines()) == 4  # closing writes what is buffered
