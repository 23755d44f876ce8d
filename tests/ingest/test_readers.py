"""Readers recognise the log shapes seen in the field and read each line's parts."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from ocppkit.toolkit.ingest.events import CS_TO_CSMS, CSMS_TO_CS, Bad, FrameEvent, parse_ts
from ocppkit.toolkit.ingest.readers import READERS, ReaderOptions, detect, get_reader
from ocppkit.toolkit.ingest.readers.prefix import parse_prefix
from ocppkit.toolkit.ingest.rows import as_us
from ocppkit.toolkit.ingest.source import events

HB = b'[2,"19","Heartbeat",{}]'
T = parse_ts("2026-03-02T07:15:20.118Z")

SHAPES = [
    ("journal", b'{"timestamp":"2026-03-02T07:15:20.118Z","charge_point_id":"CP-17",'
                b'"direction":"cs_to_csms","ocpp_version":"1.6","message":' + HB + b"}",
     (T, "CP-17", CS_TO_CSMS)),
    ("frames", HB, (None, None, None)),
    ("frames", b"2026-03-02T07:15:20.118Z " + HB, (T, None, None)),
    ("frames", b"2026-03-02T07:15:20.118Z CS->CSMS CP-17 " + HB, (T, "CP-17", CS_TO_CSMS)),
    ("frames", b"2026-03-02T07:15:20.118+00:00 OUT CP-17 " + HB, (T, "CP-17", CSMS_TO_CS)),
    ("frames", b"[2026-03-02T07:15:20:118] [msg-in] [2, \"19\", \"Heartbeat\", {}]",
     (T, None, CS_TO_CSMS)),
    ("frames", b"2026-03-02 07:15:20.118 - [TXT][CP-17] : MESSAGE : " + HB, (T, "CP-17", None)),
    ("frames", b'[2,"82","Heartbeat",{}],1969.6,0', (None, None, None)),  # Blink snoop
    ("frames", b'{"stationId":"CP-17","origin":"cs","protocol":"ocpp1.6","message":' + HB
     + b',"timestamp":"2026-03-02T07:15:20.118Z"}', (T, "CP-17", CS_TO_CSMS)),  # CitrineOS row
    ("frames", b'{"charger_id":"CP-17","captured_at":"2026-03-02T07:15:20.118Z",'
               b'"direction":"FROM_CP","raw_frame":"[2,\\"19\\",\\"Heartbeat\\",{}]"}',
     (T, "CP-17", CS_TO_CSMS)),  # evpanda record
    ("frames", b'{"t": 1772435720.118, "cp": "CP-17", "dir": "in", "frame": ' + HB + b"}",
     (T, "CP-17", CS_TO_CSMS)),
    ("ocpp-logger", b"INFO:ocpp:CP-17: receive message " + HB, (None, "CP-17", CS_TO_CSMS)),
    ("ocpp-logger", b"2026-03-02 07:15:20,118 - ocpp - INFO - CP-17: send " + HB,
     (T, "CP-17", CSMS_TO_CS)),
    ("ocpp-logger", b"2026-03-02 07:15:20.118 INFO (MainThread) [ocpp] CP-17: receive message "
     b'[2, "19", "Heartbeat", {}]', (T, "CP-17", CS_TO_CSMS)),
]  # fmt: skip


@pytest.mark.parametrize(
    ("fmt", "line", "expected"), SHAPES, ids=[f"{s[0]}-{i}" for i, s in enumerate(SHAPES)]
)
def test_each_shape_is_detected_and_read(
    fmt: str, line: bytes, expected: tuple[object, ...]
) -> None:
    assert detect([line] * 3) == fmt
    (event,) = get_reader(fmt).read([(1, line)], ReaderOptions(version="1.6"))
    assert isinstance(event, FrameEvent), event
    assert (as_us(event.ts), event.cp, event.direction) == expected
    payload = orjson.loads(event.payload) if isinstance(event.payload, bytes) else event.payload
    assert (event.mtype, event.action, payload) == (2, "Heartbeat", {})


def test_relative_markers_follow_the_side_that_wrote_the_log() -> None:
    assert parse_prefix("2026-03-02T07:15:20Z IN CP-1", side="csms").direction == CS_TO_CSMS
    assert parse_prefix("2026-03-02T07:15:20Z IN CP-1", side="cs").direction == CSMS_TO_CS
    assert parse_prefix("1772435720118 recv CP-1").ts == parse_ts("2026-03-02T07:15:20.118Z")


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b"2026-03-02 07:15:20 [info] connection established", "no OCPP-J frame on the line"),
        (b'2026-03-02T07:15:20Z [2,"1","Heartbeat"', "frame is not valid JSON"),
        (b'[2,"1",42,{}]', "invalid OCPP-J frame: action is not a non-empty string"),
        (b'[3,"' + b"x" * 40 + b'",{}]', "invalid OCPP-J frame: message id"),
    ],
)
def test_frame_log_lines_without_a_usable_frame_are_quarantined(line: bytes, reason: str) -> None:
    (item,) = get_reader("frames").read([(3, line)], ReaderOptions())
    assert isinstance(item, Bad) and item.line == 3
    assert item.reason.startswith(reason)


def test_unknown_log_format_is_refused_with_a_hint(tmp_path: Path) -> None:
    from ocppkit.translators.errors import ConfigError

    path = tmp_path / "notes.txt"
    path.write_text("dear diary\nnothing OCPP here\n")
    with pytest.raises(ConfigError, match="--format"):
        list(events(path))
    with pytest.raises(ConfigError, match="unknown log format"):
        get_reader("xlsx")


def test_every_registered_reader_has_the_reader_interface() -> None:
    for name in READERS:
        reader = get_reader(name)
        assert name == reader.NAME
        assert isinstance(reader.SPLITTABLE, bool)
        assert reader.sniff([]) == 0.0


def test_frame_log_version_is_guessed_from_its_actions(tmp_path: Path) -> None:
    path = tmp_path / "x.log"
    path.write_bytes(b'2026-03-02T07:15:20Z [2,"1","TransactionEvent",{"eventType":"Started"}]\n')
    ((fmt, event),) = list(events(path))
    assert fmt == "frames" and isinstance(event, FrameEvent) and event.version == "2.0.1"


def test_journal_block_scan_reads_exactly_what_the_line_reader_reads() -> None:
    from ocppkit.toolkit.ingest.readers import journal
    from ocppkit.toolkit.ingest.source import lines_of

    def rec(msg: bytes, spaced: bool = False) -> bytes:
        head = (b'{"timestamp":"2026-03-02T07:15:20.118Z","charge_point_id":"CP-1",'
                b'"direction":"cs_to_csms","ocpp_version":"1.6","message":')  # fmt: skip
        return (head.replace(b",", b", ") if spaced else head) + msg + b"}"

    blob = b"\n".join([
        rec(b'[2,"a","Heartbeat",{}]'),
        b"",
        rec(b'[3,"a",{"currentTime":"2026-03-02T07:15:20Z"}]') + b"\r",
        b"garbage",
        rec(b'[4,"b","NotImplemented","",{}]'),
        rec(b'[2,"c","Heartbeat",{}]', spaced=True),
        b"   " + rec(b'[2,"d","MeterValues",{"connectorId":1,"meterValue":[]}]'),
        rec(b'[2,"e","Heartbeat",{}]'),
    ])  # fmt: skip

    def norm(items: list[object]) -> list[object]:
        return [
            i._replace(payload=orjson.loads(i.payload)) if isinstance(i, FrameEvent)
            and isinstance(i.payload, bytes) else i
            for i in items
        ]  # fmt: skip

    by_block = norm(list(journal.read_block(blob, 10, ReaderOptions())))
    by_line = norm(list(journal.read(lines_of(blob, 10), ReaderOptions())))
    assert by_block == by_line
    assert [i.line for i in by_block] == [10, 12, 13, 14, 15, 16, 17]
    assert isinstance(by_block[2], Bad) and by_block[3].mtype == 4  # type: ignore[union-attr]


def test_the_format_option_names_every_registered_reader() -> None:
    import typing

    from ocppkit.toolkit.commands.log_options import Format

    (option,) = [m for m in typing.get_args(Format)[1:] if hasattr(m, "help")]
    named = option.help.split(": ", 1)[1].rstrip(".").split(", ")
    assert sorted(named) == sorted(READERS)
