"""One fault is one interval, whichever messages report it."""

from __future__ import annotations

from pathlib import Path

import orjson
import pyarrow.dataset as ds

from ocppkit.toolkit.ingest.pipeline import IngestOptions, ingest


def record(ts: str, message: list[object]) -> bytes:
    return orjson.dumps(
        {
            "timestamp": ts,
            "charge_point_id": "CP",
            "direction": "cs_to_csms",
            "ocpp_version": "2.0.1",
            "message": message,
        }
    )


def status(ts: str, value: str) -> dict[str, object]:
    return {"timestamp": ts, "connectorStatus": value, "evseId": 1, "connectorId": 1}


def problem(ts: str, active: bool) -> dict[str, object]:
    item = {
        "eventId": 1,
        "timestamp": ts,
        "trigger": "Delta",
        "actualValue": str(active).lower(),
        "techCode": "GroundFailure",
        "eventNotificationType": "HardWiredNotification",
        "component": {"name": "ChargingStation", "evse": {"id": 1}},
        "variable": {"name": "Problem"},
    }
    return {"generatedAt": ts, "seqNo": 0, "eventData": [item]}


def test_causeless_faulted_status_and_its_notify_event_are_one_fault(tmp_path: Path) -> None:
    t0, t1, t2 = "2026-03-02T08:00:00Z", "2026-03-02T08:00:01Z", "2026-03-02T08:30:00Z"
    lines = [
        record(t0, [2, "a", "StatusNotification", status(t0, "Faulted")]),
        record(t1, [2, "b", "NotifyEvent", problem(t1, True)]),
        record(t2, [2, "c", "NotifyEvent", problem(t2, False)]),
        record(t2, [2, "d", "StatusNotification", status(t2, "Available")]),
    ]
    log = tmp_path / "j.jsonl"
    log.write_bytes(b"\n".join(lines) + b"\n")
    ingest([log], tmp_path / "ds", IngestOptions(workers=1))
    faults = ds.dataset(tmp_path / "ds" / "faults").to_table().to_pylist()
    assert [(f["error_code"], f["duration_s"]) for f in faults] == [("GroundFailure", 1800.0)]
