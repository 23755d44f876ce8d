"""The log shapes analysts have, each from a fixture written here from the format's description.

Every shape is auto-detected from the file alone, read into frames with the
right time, charger, direction and version, and what is not a frame is
counted as skipped (annotations) or quarantined (garbage) with a reason.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ocppkit.toolkit.ingest import IngestOptions, ingest
from ocppkit.toolkit.ingest.convert import to_journal
from ocppkit.toolkit.ingest.events import FrameEvent
from ocppkit.toolkit.ingest.readers import ReaderOptions, detect
from ocppkit.toolkit.ingest.readers import trace as trace_reader
from ocppkit.toolkit.ingest.readers.csv_export import parse_message
from ocppkit.toolkit.ingest.source import first_lines
from tests.ingest.helpers import table

SHAPES = Path(__file__).with_name("shapes")
SAMPLE = Path(__file__).resolve().parents[2] / "datasets" / "sample-1.6-session.jsonl"
UP, DOWN = "cs_to_csms", "csms_to_cs"


def frames_of(log: Path, tmp_path: Path, **options: Any) -> tuple[list[dict[str, Any]], Any]:
    summary = ingest([log], tmp_path / "ds", IngestOptions(workers=1, **options))
    rows = sorted(table(tmp_path / "ds", "frames"), key=lambda r: r["line"])
    return rows, summary


@pytest.mark.parametrize(
    ("name", "fmt"),
    [("export.csv", "csv"), ("export-python.csv", "csv"), ("trace.jsonl", "trace"),
     ("octt-2.0.1.log", "octt"), ("evcc.log", "evcc")],
)  # fmt: skip
def test_each_shape_is_detected_from_the_file_alone(name: str, fmt: str, tmp_path: Path) -> None:
    assert detect(first_lines((SHAPES / name).read_bytes())) == fmt
    _, summary = frames_of(SHAPES / name, tmp_path)
    assert summary.files == {str(SHAPES / name): fmt}


def test_csv_export_with_json_frames_takes_direction_from_who_sends_each_action(
    tmp_path: Path,
) -> None:
    rows, summary = frames_of(SHAPES / "export.csv", tmp_path)
    assert summary.quarantined == 0 and len(rows) == 8
    assert {r["charge_point_id"] for r in rows} == {"CP-A"}
    assert [r["direction"] for r in rows] == [UP, DOWN, UP, DOWN, DOWN, UP, UP, DOWN]
    assert rows[5]["matched_action"] == "RemoteStartTransaction"
    assert rows[0]["timestamp"].isoformat() == "2026-04-01T06:00:00+00:00"
    assert {r["ocpp_version"] for r in rows} == {"1.6"}  # guessed from the actions


def test_csv_export_with_python_literals_is_read_without_evaluating_code(tmp_path: Path) -> None:
    rows, _ = frames_of(SHAPES / "export-python.csv", tmp_path)
    assert len(rows) == 5
    start = orjson.loads(rows[2]["payload"])
    assert start["reservationId"] is None and start["meterStart"] == 1500
    assert orjson.loads(rows[4]["payload"]) == {"vendorId": "acme", "data": "fan=True"}
    assert rows[3]["direction"] == DOWN and rows[3]["matched_action"] == "StartTransaction"
    # The last row is code, not a literal: quarantined, never run.
    (bad,) = table(tmp_path / "ds", "quarantine")
    assert bad["line"] == 7 and "neither JSON nor a Python literal" in bad["reason"]
    (session,) = table(tmp_path / "ds", "sessions")
    assert (session["transaction_id"], session["evse_id"]) == ("88", 2)


def test_python_literal_parser_refuses_anything_but_literals() -> None:
    assert parse_message("[2, 'x', 'Heartbeat', {}]") == [2, "x", "Heartbeat", {}]
    for text in ("__import__('os')", "[2, 'x', open('f'), {}]", "lambda: 1"):
        with pytest.raises(ValueError, match="neither JSON"):
            parse_message(text)


def test_open_ocpp_trace_records_are_read_and_unanswered_calls_flagged(tmp_path: Path) -> None:
    rows, summary = frames_of(SHAPES / "trace.jsonl", tmp_path)
    assert summary.quarantined == 0 and len(rows) == 7
    assert {r["ocpp_version"] for r in rows} == {"2.0.1"}
    assert [r["message_type"] for r in rows] == [2, 3, 2, 4, 2, 3, 2]
    assert rows[3]["matched_action"] == "GetVariables"
    assert orjson.loads(rows[3]["payload"])["errorCode"] == "NotSupported"
    # The consumer view: h1 unanswered (the result names zz), zz an orphan, r1 unanswered.
    assert rows[5]["flags"] == "orphan_result"
    assert [r["line"] for r in rows if r["flags"] == "unanswered_call"] == [5, 7]


def test_octt_log_takes_version_and_charger_from_its_header_and_skips_annotations(
    tmp_path: Path,
) -> None:
    rows, summary = frames_of(SHAPES / "octt-2.0.1.log", tmp_path)
    assert summary.quarantined == 0
    assert summary.skipped == {"OCTT annotation": 6, "OCTT header line": 5}
    assert len(rows) == 8 and {r["ocpp_version"] for r in rows} == {"2.0.1"}
    assert {r["charge_point_id"] for r in rows} == {"OCTT-CS-01"}
    # CS under test: the tool is the CSMS, so msg-in is what the charger sent.
    assert [r["direction"] for r in rows] == [UP, DOWN, UP, DOWN, UP, DOWN, DOWN, UP]
    assert rows[0]["timestamp"].isoformat() == "2026-05-04T10:00:01.230000+00:00"
    assert rows[7]["matched_action"] == "RequestStopTransaction"


def test_octt_log_of_a_csms_under_test_turns_the_directions_round(tmp_path: Path) -> None:
    text = (SHAPES / "octt-2.0.1.log").read_text(encoding="utf-8")
    log = tmp_path / "csms.log"
    log.write_text(text.replace("System under test : CS", "System under test : CSMS"))
    rows, _ = frames_of(log, tmp_path)
    assert rows[0]["direction"] == DOWN and rows[0]["action"] == "BootNotification"


def test_evcc_log_reads_recv_and_send_lines_and_skips_its_other_lines(tmp_path: Path) -> None:
    rows, summary = frames_of(SHAPES / "evcc.log", tmp_path)
    assert summary.quarantined == 0 and summary.skipped == {"evcc line without a frame": 1}
    assert [r["direction"] for r in rows] == [UP, DOWN, DOWN, UP, UP, DOWN]
    assert {r["charge_point_id"] for r in rows} == {"wallbox"}
    assert rows[0]["timestamp"].isoformat() == "2026-07-22T15:53:24+00:00"
    assert rows[3]["matched_action"] == "ChangeConfiguration"


def _comparable(rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    keys = ("timestamp", "charge_point_id", "direction", "ocpp_version", "message_type",
            "message_id", "action", "matched_action")  # fmt: skip
    return [(*(r[k] for k in keys), orjson.loads(r["payload"])) for r in rows]


def test_convert_to_trace_and_back_gives_the_same_frames(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from ocppkit.toolkit.cli import app

    out = tmp_path / "sample.trace.jsonl"
    result = CliRunner().invoke(app, ["convert", str(SAMPLE), "--to", "trace", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert detect(first_lines(out.read_bytes())) == "trace"
    direct, _ = frames_of(SAMPLE, tmp_path / "a")
    via_trace, _ = frames_of(out, tmp_path / "b")
    assert _comparable(direct) == _comparable(via_trace)
    # and trace -> journal -> trace is the identity on the records
    journal = bytearray()
    to_journal([out], journal.extend)
    again = tmp_path / "again.jsonl"
    again.write_bytes(bytes(journal))
    back = bytearray()
    to_journal([again], back.extend, shape="trace")
    assert bytes(back) == out.read_bytes()


_ids = st.text(st.characters(codec="ascii", categories=["L", "N"]), min_size=1, max_size=36)
_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                 max_size=3),
    max_leaves=10,
)  # fmt: skip
_messages = st.one_of(
    st.tuples(st.just(2), _ids, st.sampled_from(["Heartbeat", "Reset", "DataTransfer"]),
              st.dictionaries(st.text(max_size=8), _values, max_size=4)).map(list),
    st.tuples(st.just(3), _ids, st.dictionaries(st.text(max_size=8), _values, max_size=4)).map(
        list),
    st.tuples(st.just(4), _ids, st.sampled_from(["NotSupported", "InternalError"]),
              st.text(max_size=20), st.dictionaries(st.text(max_size=8), _values, max_size=2)
              ).map(list),
)  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(message=_messages, direction=st.sampled_from([UP, DOWN]),
       version=st.sampled_from(["1.6", "2.0.1"]))  # fmt: skip
def test_a_trace_record_reads_back_as_the_frame_it_was_written_from(
    message: list[Any], direction: str, version: str
) -> None:
    record = trace_reader.to_record("2026-04-02T09:00:00.000Z", "CP-1", direction, version, message)
    line = orjson.dumps(record)
    (event,) = trace_reader.read([(1, line)], ReaderOptions())
    assert isinstance(event, FrameEvent)
    assert (event.cp, event.direction, event.version, event.mtype, event.msg_id) == (
        "CP-1", direction, version, message[0], message[1])  # fmt: skip
    if message[0] == 2:
        assert (event.action, event.payload) == (message[2], message[3])
    elif message[0] == 3:
        assert event.payload == message[2]
    else:
        assert event.payload == {"errorCode": message[2], "errorDescription": message[3],
                                 "errorDetails": message[4]}  # fmt: skip
