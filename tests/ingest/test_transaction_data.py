"""A StopTransaction's transactionData repeats the start baseline: not a falling register."""

from __future__ import annotations

from pathlib import Path

import orjson
import pyarrow.dataset as ds

from ocppkit.toolkit.ingest.pipeline import IngestOptions, ingest


def record(ts: str, direction: str, message: list[object]) -> bytes:
    return orjson.dumps(
        {
            "timestamp": ts,
            "charge_point_id": "CP",
            "direction": direction,
            "ocpp_version": "1.6",
            "message": message,
        }
    )


def sample(ts: str, wh: int, context: str) -> dict[str, object]:
    return {"timestamp": ts, "sampledValue": [{"value": str(wh), "context": context}]}


def test_transaction_data_begin_sample_is_not_flagged_as_a_falling_register(tmp_path: Path) -> None:
    up, down = "cs_to_csms", "csms_to_cs"
    t0, t1, t2 = "2026-03-02T08:00:00Z", "2026-03-02T08:30:00Z", "2026-03-02T09:00:00Z"
    start = {"connectorId": 1, "idTag": "T", "meterStart": 1000, "timestamp": t0}
    periodic = {
        "connectorId": 1,
        "transactionId": 7,
        "meterValue": [sample(t1, 5000, "Sample.Periodic")],
    }
    stop = {
        "transactionId": 7,
        "meterStop": 9000,
        "timestamp": t2,
        "reason": "Local",
        "transactionData": [
            sample(t0, 1000, "Transaction.Begin"),
            sample(t2, 9000, "Transaction.End"),
        ],
    }
    lines = [
        record(t0, up, [2, "s", "StartTransaction", start]),
        record(t0, down, [3, "s", {"idTagInfo": {"status": "Accepted"}, "transactionId": 7}]),
        record(t1, up, [2, "m", "MeterValues", periodic]),
        record(t1, down, [3, "m", {}]),
        record(t2, up, [2, "e", "StopTransaction", stop]),
        record(t2, down, [3, "e", {}]),
    ]
    log = tmp_path / "j.jsonl"
    log.write_bytes(b"\n".join(lines) + b"\n")
    summary = ingest([log], tmp_path / "ds", IngestOptions(workers=1))
    sessions = ds.dataset(tmp_path / "ds" / "sessions").to_table().to_pylist()
    assert len(sessions) == 1
    assert sessions[0]["energy_wh"] == 8000
    assert "non_monotonic_energy" not in (sessions[0]["flags"] or "")
    assert "non_monotonic_energy" not in summary.flags
