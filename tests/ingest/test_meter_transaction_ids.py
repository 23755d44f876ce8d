"""Every meter_values row names its transaction, even when the frame itself does not.

A 1.5/1.6 StartTransaction carries the meterStart register but no
transactionId: the CSMS assigns it in the CALLRESULT (1.6 §6.46), which may
sit in the same block or any later one. The row must carry that id, as the
sessions row does, however the log is cut and whichever process reads it.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.ingest import fleet as F
from tests.ingest.helpers import sessions_by_tx, table
from toolkit.ingest import IngestOptions, ingest, pipeline

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


def _open_at(fleet: list[F.TruthSession], row: dict[str, Any]) -> dict[str, F.TruthSession]:
    """The sessions open on the row's charger at its time (on its EVSE, if it names one)."""
    ts: datetime = row["timestamp"]
    return {
        s.tx: s for s in fleet
        if s.cp == row["charge_point_id"] and s.start <= ts <= s.stop
        and row["evse_id"] in (None, s.evse)
    }  # fmt: skip


@pytest.mark.parametrize("cut", list(CUTS))
@pytest.mark.parametrize(("version", "fmt"), CASES, ids=[f"{v}-{f}" for v, f in CASES])
def test_every_meter_value_row_carries_the_transaction_id_of_its_session(
    fleet: list[F.TruthSession], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    version: str, fmt: str, cut: str,
) -> None:  # fmt: skip
    monkeypatch.setattr(pipeline, "MIN_PARALLEL_BYTES", 0)
    monkeypatch.setattr(pipeline, "NON_SPLITTABLE_GROUP", 1 if cut != "one-block" else 20_000)
    log = F.write(fleet, version, fmt, tmp_path / "log")
    # The format is given: a one-line first block is too little to sniff a SOAP capture by.
    ingest([log], tmp_path / "ds", IngestOptions(format=fmt, **CUTS[cut]))  # type: ignore[arg-type]
    rows = table(tmp_path / "ds", "meter_values")
    sessions = sessions_by_tx(tmp_path / "ds")
    assert set(sessions) == {s.tx for s in fleet}
    starts = [r for r in rows if r["source_action"] == "StartTransaction"]
    if version == "2.0.1":
        assert not starts
        assert {r["source_action"] for r in rows} == {"TransactionEvent"}
    else:
        assert len(starts) == len(fleet)  # one meterStart register per session
    for row in rows:
        # A 2.0.1 Updated event or a 1.6 stop register names no EVSE: any session then
        # open on the charger will do (the id must still be one of them, never null).
        assert row["transaction_id"] in _open_at(fleet, row), row
    for row in starts:
        (truth,) = _open_at(fleet, row).values()
        assert row["value"] == sessions[truth.tx]["meter_start_wh"] == truth.meter_start
        assert row["evse_id"] == truth.evse and row["context"] == "Transaction.Begin"
        assert row["source_file"] == str(log) and row["ocpp_version"] == version
