"""Every meter_values row names its session, even when the frame itself does not.

A 1.5/1.6 StartTransaction carries the meterStart register but no
transactionId: the CSMS assigns it in the CALLRESULT (1.6 §6.46), which may
sit in the same block or any later one. A 1.5/1.6 StopTransaction (meterStop,
transactionData) names no connector, and a 2.0.1 TransactionEvent names its
EVSE only once (2.0.1 E01-E02: the first event after the EVSE is known). Each
such row must still carry its session's transaction id, EVSE and connector,
as the sessions row does, however the log is cut and whichever process reads it.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from ocppkit.toolkit.ingest import IngestOptions, ingest, pipeline
from tests.ingest import fleet as F
from tests.ingest.helpers import sessions_by_tx, table

CASES = [
    ("1.6", "journal"), ("1.6", "frames"), ("1.6", "ocpp-logger"),
    ("2.0.1", "journal"), ("2.0.1", "frames"), ("2.0.1", "ocpp-logger"),
    ("1.5", "journal"), ("1.5", "soap15"),
]  # fmt: skip
# How the log is cut: one block; a block per line (every StartTransaction's
# answer in the next block); small blocks read by two worker processes.
CUTS = {
    "one-block": dict(workers=1, block_bytes=64 << 20),
    "a-block-per-line": dict(workers=1, block_bytes=1),
    "two-workers": dict(workers=2, block_bytes=4096),
}


@pytest.fixture(scope="module")
def fleet() -> list[F.TruthSession]:
    return F.make_fleet(seed=21, chargers=2, sessions_per_evse=2)


def _session_of(fleet: list[F.TruthSession], row: dict[str, Any]) -> F.TruthSession:
    """The session a row names, checked to be open on the row's charger at its time."""
    (truth,) = [s for s in fleet if s.tx == row["transaction_id"]]
    ts: datetime = row["timestamp"]
    assert truth.cp == row["charge_point_id"] and truth.start <= ts <= truth.stop, row
    return truth


@pytest.mark.parametrize("cut", list(CUTS))
@pytest.mark.parametrize(("version", "fmt"), CASES, ids=[f"{v}-{f}" for v, f in CASES])
def test_every_meter_value_row_carries_the_transaction_evse_and_connector_of_its_session(
    fleet: list[F.TruthSession], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    version: str, fmt: str, cut: str,
) -> None:  # fmt: skip
    monkeypatch.setattr(pipeline, "MIN_PARALLEL_BYTES", 0)
    monkeypatch.setattr(pipeline, "NON_SPLITTABLE_GROUP", 1 if cut != "one-block" else 20_000)
    log = F.write(fleet, version, fmt, tmp_path / "log", transaction_data=True)
    # The format is given: a one-line first block is too little to sniff a SOAP capture by.
    ingest([log], tmp_path / "ds", IngestOptions(format=fmt, **CUTS[cut]))  # type: ignore[arg-type]
    rows = table(tmp_path / "ds", "meter_values")
    sessions = sessions_by_tx(tmp_path / "ds")
    assert set(sessions) == {s.tx for s in fleet}
    starts = [r for r in rows if r["source_action"] == "StartTransaction"]
    stops = [r for r in rows if r["source_action"] == "StopTransaction"]
    if version == "2.0.1":
        assert {r["source_action"] for r in rows} == {"TransactionEvent"}
        assert any(r["context"] == "Sample.Periodic" for r in rows)  # Updated: no EVSE named
    else:
        assert len(starts) == len(fleet)  # one meterStart register per session
        assert len(stops) == 3 * len(fleet)  # meterStop, transactionData Begin and End
        assert {r["context"] for r in stops} == {"Transaction.Begin", "Transaction.End"}
    for row in rows:
        truth = _session_of(fleet, row)
        assert (row["evse_id"], row["connector_id"]) == (truth.evse, 1), row
        assert (row["evse_id"], row["connector_id"]) == (
            sessions[truth.tx]["evse_id"],
            sessions[truth.tx]["connector_id"],
        )
    for row in starts:
        truth = _session_of(fleet, row)
        assert row["value"] == sessions[truth.tx]["meter_start_wh"] == truth.meter_start
        assert row["context"] == "Transaction.Begin"
        assert row["source_file"] == str(log) and row["ocpp_version"] == version


def test_stop_without_its_start_leaves_its_meter_rows_with_no_evse_or_connector(
    tmp_path: Path,
) -> None:
    # Another session (tx 5, connector 2) is open on the charger: the unknown stop
    # must not borrow its connector.
    t0, t1 = "2026-03-02T08:00:00Z", "2026-03-02T09:00:00Z"
    start = {"connectorId": 2, "idTag": "T", "meterStart": 500, "timestamp": t0}
    stop = {
        "transactionId": 7, "meterStop": 9000, "timestamp": t1, "reason": "Local",
        "transactionData": [{"timestamp": t0, "sampledValue": [
            {"value": "1000", "context": "Transaction.Begin"}]}],
    }  # fmt: skip
    frames = [(t0, "cs_to_csms", [2, "s", "StartTransaction", start]),
              (t0, "csms_to_cs", [3, "s", {"transactionId": 5, "idTagInfo": {}}]),
              (t1, "cs_to_csms", [2, "e", "StopTransaction", stop]),
              (t1, "csms_to_cs", [3, "e", {}])]  # fmt: skip
    log = tmp_path / "j.jsonl"
    log.write_bytes(b"".join(
        orjson.dumps({"timestamp": ts, "charge_point_id": "CP", "direction": direction,
                      "ocpp_version": "1.6", "message": message}) + b"\n"
        for ts, direction, message in frames
    ))  # fmt: skip
    summary = ingest([log], tmp_path / "ds", IngestOptions(workers=1))
    rows = {r["value"]: r for r in table(tmp_path / "ds", "meter_values")}
    assert sorted(rows) == [500.0, 1000.0, 9000.0]
    assert (rows[500.0]["transaction_id"], rows[500.0]["evse_id"]) == ("5", 2)
    for wh in (1000.0, 9000.0):
        row = rows[wh]
        assert (row["transaction_id"], row["evse_id"], row["connector_id"]) == ("7", None, None)
    assert summary.flags["stop_without_start"] == 1
