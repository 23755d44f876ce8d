"""Nothing is lost silently: bad lines are quarantined with reasons, anomalies flagged."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import orjson
import pytest

from ocppkit.toolkit.ingest import IngestOptions, ingest
from tests.ingest import fleet as F
from tests.ingest.helpers import sessions_by_tx, table

GARBAGE = [
    (b"this is not json at all", "not JSON"),
    (b'{"timestamp": "2026-03-02T07:00:00Z", "charge_point_id": "CP-9"}', "not a journal record"),
    (b'{"timestamp":"2026-03-02T07:00:00Z","charge_point_id":"CP-9","direction":"cs_to_csms",'
     b'"ocpp_version":"1.6","message":[9,"x","Heartbeat",{}]}', "invalid OCPP-J frame"),
    (b'{"timestamp":"yesterday","charge_point_id":"CP-9","direction":"cs_to_csms",'
     b'"ocpp_version":"1.6","message":[2,"x","Heartbeat",{}]}', "not a journal record"),
    (b'{"timestamp":"2026-03-02T07:00:00Z","charge_point_id":"CP-9","direction":"cs_to_csms",'
     b'"ocpp_version":"1.6","message":[2,"x","Heartbe', "not JSON"),
]  # fmt: skip


def test_one_percent_garbage_is_quarantined_line_by_line_and_the_rest_ingests(
    tmp_path: Path,
) -> None:
    fleet = F.make_fleet(seed=11, chargers=3, sessions_per_evse=3)
    good = F.write(fleet, "1.6", "journal", tmp_path / "good.jsonl").read_bytes().splitlines()
    rng = random.Random(5)
    lines: list[bytes] = []
    expected: dict[int, str] = {}
    for line in good:
        if rng.random() < 0.01:
            text, reason = GARBAGE[len(expected) % len(GARBAGE)]
            lines.append(text)
            expected[len(lines)] = reason
        lines.append(line)
    assert len(expected) >= 5
    log = tmp_path / "dirty.jsonl"
    log.write_bytes(b"\n".join(lines) + b"\n")
    summary = ingest([log], tmp_path / "ds", IngestOptions(workers=1, block_bytes=8192))
    quarantined = {row["line"]: row for row in table(tmp_path / "ds", "quarantine")}
    assert set(quarantined) == set(expected)
    for number, reason in expected.items():
        assert quarantined[number]["reason"].startswith(reason), quarantined[number]
        assert quarantined[number]["text"] == lines[number - 1].decode()
        assert quarantined[number]["source_file"] == str(log)
    assert summary.quarantined == len(expected)
    assert sum(summary.quarantine_reasons.values()) == len(expected)
    assert summary.frames == len(good)
    got = sessions_by_tx(tmp_path / "ds")
    for truth in fleet:
        expected_row = truth.row()
        assert {k: got[truth.tx][k] for k in expected_row} == expected_row


def _rec(t: str, direction: str, msg: list[Any], cp: str = "CP-1") -> bytes:
    return orjson.dumps(
        {
            "timestamp": f"2026-03-02T{t}Z",
            "charge_point_id": cp,
            "direction": direction,
            "ocpp_version": "1.6",
            "message": msg,
        }
    )


def _mv(mid: str, t: str, wh: int) -> list[Any]:
    return [2, mid, "MeterValues", {"connectorId": 1, "transactionId": 7, "meterValue": [
        {"timestamp": f"2026-03-02T{t}Z", "sampledValue": [{"value": str(wh)}]}]}]  # fmt: skip


@pytest.mark.parametrize("block_bytes", [1 << 20, 1], ids=["one-block", "a-block-per-line"])
def test_anomalies_are_flagged_on_frames_sessions_and_in_the_summary(
    tmp_path: Path, block_bytes: int
) -> None:
    up, down = "cs_to_csms", "csms_to_cs"
    lines = [
        _rec("08:00:00.000", up, [2, "s1", "StartTransaction", {"connectorId": 1, "idTag": "T",
             "meterStart": 1000, "timestamp": "2026-03-02T08:00:00Z"}]),
        _rec("08:00:00.100", down, [3, "s1", {"transactionId": 7,
                                              "idTagInfo": {"status": "Accepted"}}]),
        _rec("08:01:00.000", up, _mv("m1", "08:01:00", 1500)),
        _rec("08:01:00.000", up, _mv("m1", "08:01:00", 1500)),  # the same id again: duplicate
        _rec("08:01:00.050", down, [3, "m1", {}]),
        _rec("08:02:00.000", up, _mv("m2", "08:02:00", 1200)),  # register went down
        _rec("07:02:00.000", down, [3, "m2", {}]),  # log clock one hour back
        _rec("08:02:30.000", down, [3, "nobody-asked", {}]),  # result without its call
        _rec("08:03:00.000", up, [2, "t1", "StopTransaction", {"transactionId": 7,
             "meterStop": -1, "timestamp": "2026-03-02T08:03:00Z"}]),  # meterStop unknown
        _rec("08:03:00.050", down, [3, "t1", {}]),
    ]  # fmt: skip
    log = tmp_path / "odd.jsonl"
    log.write_bytes(b"\n".join(lines) + b"\n")
    # One block, or every line its own block (the parent then decides every flag).
    summary = ingest([log], tmp_path / "ds", IngestOptions(workers=1, block_bytes=block_bytes))
    frames = {row["line"]: row for row in table(tmp_path / "ds", "frames")}
    assert frames[4]["flags"] == "duplicate_message_id"
    assert frames[7]["flags"] == "clock_jump"
    assert frames[8]["flags"] == "orphan_result" and frames[8]["matched_action"] is None
    assert frames[2]["matched_action"] == "StartTransaction" and frames[2]["latency_ms"] == 100.0
    (session,) = table(tmp_path / "ds", "sessions")
    assert session["flags"] == "non_monotonic_energy,missing_stop_meter"
    assert session["meter_stop_wh"] == 1200.0  # the last register sample stands in
    assert session["energy_wh"] == 200.0
    for name in ("duplicate_message_id", "clock_jump", "orphan_result", "non_monotonic_energy",
                 "missing_stop_meter"):  # fmt: skip
        assert summary.flags[name] == 1, name
    assert summary.quarantined == 0


@pytest.mark.parametrize("block_bytes", [1 << 20, 1], ids=["one-block", "a-block-per-line"])
def test_calls_no_result_answers_are_flagged_unanswered_call(
    tmp_path: Path, block_bytes: int
) -> None:
    up, down = "cs_to_csms", "csms_to_cs"
    lines = [
        _rec("08:00:00.000", up, [2, "h1", "Heartbeat", {}]),  # answered
        _rec("08:00:00.100", down, [3, "h1", {"currentTime": "2026-03-02T08:00:00Z"}]),
        _rec("08:01:00.000", up, [2, "h2", "Heartbeat", {}]),  # superseded by the next h2
        _rec("08:01:30.000", up, [2, "h2", "Heartbeat", {}]),
        _rec("08:01:30.100", down, [3, "h2", {"currentTime": "2026-03-02T08:01:30Z"}]),
        _rec("08:02:00.000", down, [2, "r1", "Reset", {"type": "Soft"}]),  # never answered
        _rec("08:03:00.000", up, [2, "h3", "Heartbeat", {}]),  # the log ends first
    ]
    log = tmp_path / "unanswered.jsonl"
    log.write_bytes(b"\n".join(lines) + b"\n")
    summary = ingest([log], tmp_path / "ds", IngestOptions(workers=1, block_bytes=block_bytes))
    flags = {row["line"]: row["flags"] for row in table(tmp_path / "ds", "frames")}
    assert {n for n, f in flags.items() if f and "unanswered_call" in f} == {3, 6, 7}
    assert flags[4] == "duplicate_message_id" and flags[1] is None
    assert summary.flags["unanswered_call"] == 3


def test_status_faults_become_intervals_with_durations(tmp_path: Path) -> None:
    def status(t: str, value: str, code: str = "NoError", mid: str = "") -> bytes:
        return _rec(t, "cs_to_csms", [2, mid or t, "StatusNotification", {
            "connectorId": 1, "status": value, "errorCode": code,
            "timestamp": f"2026-03-02T{t}Z"}])  # fmt: skip

    notify = [2, "n1", "NotifyEvent", {"generatedAt": "2026-03-02T09:00:00Z", "seqNo": 0,
              "eventData": [{"eventId": 1, "timestamp": "2026-03-02T09:00:00Z",
                             "trigger": "Alerting", "actualValue": "true", "techCode": "E42",
                             "eventNotificationType": "HardWiredNotification",
                             "component": {"name": "Connector",
                                           "evse": {"id": 1, "connectorId": 1}},
                             "variable": {"name": "Problem"}}]}]  # fmt: skip
    cleared = orjson.loads(orjson.dumps(notify))
    cleared[1] = "n2"
    cleared[3]["eventData"][0] |= {"timestamp": "2026-03-02T09:10:00Z", "actualValue": "false"}
    lines = [
        status("08:00:00", "Available"),
        status("08:10:00", "Faulted", "GroundFailure"),
        status("08:11:00", "Faulted", "GroundFailure"),
        status("08:40:00", "Available"),
        status("08:50:00", "Available", "HighTemperature"),
        orjson.dumps({"timestamp": "2026-03-02T09:00:00Z", "charge_point_id": "CP-2",
                      "direction": "cs_to_csms", "ocpp_version": "2.0.1", "message": notify}),
        orjson.dumps({"timestamp": "2026-03-02T09:10:00Z", "charge_point_id": "CP-2",
                      "direction": "cs_to_csms", "ocpp_version": "2.0.1", "message": cleared}),
    ]  # fmt: skip
    log = tmp_path / "faults.jsonl"
    log.write_bytes(b"\n".join(lines) + b"\n")
    ingest([log], tmp_path / "ds", IngestOptions(workers=1))
    faults = sorted(table(tmp_path / "ds", "faults"), key=lambda r: r["start_time"])
    assert [(f["error_code"], f["duration_s"], f["reports"]) for f in faults] == [
        ("GroundFailure", 1800.0, 2),
        ("HighTemperature", None, 1),  # still active at the end of the log
        ("E42", 600.0, 1),
    ]
    assert faults[0]["status"] == "Faulted" and faults[2]["source_action"] == "NotifyEvent"
    statuses = table(tmp_path / "ds", "status_events")
    assert [s["connector_status"] for s in statuses] == ["Available", "Faulted", "Faulted",
                                                         "Available", "Available"]  # fmt: skip


def test_journal_fast_and_general_paths_agree_line_for_line(tmp_path: Path) -> None:
    import json

    fleet = F.make_fleet(seed=13, chargers=2, sessions_per_evse=2)
    compact = F.write(fleet, "2.0.1", "journal", tmp_path / "compact.jsonl")
    broken = b'"message":[3,"zz",{"a":}]}'
    lines = compact.read_bytes().splitlines()
    lines.insert(7, lines[0].split(b'"message":')[0] + broken)  # payload not JSON
    compact.write_bytes(b"\n".join(lines) + b"\n")
    # The same records with spaces after separators: the fast path declines all of them.
    spaced = tmp_path / "spaced.jsonl"
    spaced.write_text(
        "\n".join(json.dumps(orjson.loads(x)) if x[-3:] != b"}]}" or b'"zz"' not in x
                  else x.decode() for x in lines) + "\n"
    )  # fmt: skip
    got = {}
    for log in (compact, spaced):
        ingest([log], tmp_path / log.stem, IngestOptions(workers=1))
        got[log.stem] = {
            name: [{**r, "source_file": None} for r in table(tmp_path / log.stem, name)]
            for name in ("frames", "meter_values", "sessions", "status_events", "quarantine")
        }
    (bad,) = got["compact"]["quarantine"]
    assert bad["line"] == 8 and bad["reason"].startswith("not JSON")
    assert got["compact"]["quarantine"] == got["spaced"]["quarantine"]
    assert got["compact"] == got["spaced"]
