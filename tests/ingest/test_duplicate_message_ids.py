"""A reused message id is judged by one rule, wherever the log's blocks are cut.

The rule (ocppkit.toolkit.ingest.duplicates): a CALL is a duplicate when the same
sender's earlier CALL with that id is still unanswered and under five
minutes old. Reuse after an answer, after a timeout, by another charger or
in the other direction is legitimate.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from ocppkit.toolkit.ingest import IngestOptions, ingest, pipeline
from tests.ingest.helpers import table

UP, DOWN = "cs_to_csms", "csms_to_cs"


def _rec(t: str, direction: str, msg: list[Any], cp: str = "CP-1") -> bytes:
    record = {"timestamp": f"2026-03-02T{t}Z", "charge_point_id": cp, "direction": direction,
              "ocpp_version": "1.6", "message": msg}  # fmt: skip
    return orjson.dumps(record)


def _hb(mid: str) -> list[Any]:
    return [2, mid, "Heartbeat", {}]


def _ok(mid: str) -> list[Any]:
    return [3, mid, {"currentTime": "2026-03-02T08:00:00Z"}]


STATUS = {"connectorId": 0, "status": "Available", "errorCode": "NoError"}

# (log line, the flags its frame must get). A CALL whose id a later CALL took over
# before any answer came is never answered: unanswered_call.
LOG: list[tuple[bytes, str | None]] = [
    # "1" unanswered, then sent again 30 s later and answered: a duplicate; the answer
    # belongs to the second CALL.
    (_rec("08:00:00.000", UP, _hb("1")), "unanswered_call"),
    (_rec("08:00:30.000", UP, _hb("1")), "duplicate_message_id"),
    (_rec("08:00:30.200", DOWN, _ok("1")), None),
    # "1" again after that answer: free to reuse.
    (_rec("08:01:00.000", UP, _hb("1")), None),
    (_rec("08:01:00.100", DOWN, _ok("1")), None),
    # Another charger, and the CSMS's own "1" towards CP-1: other senders.
    (_rec("08:01:10.000", UP, _hb("1"), cp="CP-2"), None),
    (_rec("08:01:10.000", DOWN, [2, "1", "GetConfiguration", {}]), None),
    (_rec("08:01:10.100", UP, [3, "1", {"configurationKey": []}]), None),
    (_rec("08:01:10.200", DOWN, _ok("1"), cp="CP-2"), None),
    # "7" never answered; the charger reboots and counts from "7" again 3 hours later.
    (_rec("08:02:00.000", UP, _hb("7")), "unanswered_call"),
    (_rec("11:02:00.000", UP, _hb("7")), None),
    (_rec("11:02:00.100", DOWN, _ok("7")), None),
    # "9" sent three times while unanswered, with a different action the last time.
    (_rec("11:03:00.000", UP, _hb("9")), "unanswered_call"),
    (_rec("11:03:01.000", UP, _hb("9")), "duplicate_message_id,unanswered_call"),
    (_rec("11:03:02.000", UP, [2, "9", "StatusNotification", STATUS]), "duplicate_message_id"),
    (_rec("11:03:02.050", DOWN, [3, "9", {}]), None),
]

CUTS = {
    "one-block": dict(workers=1, block_bytes=1 << 20),
    "a-block-per-line": dict(workers=1, block_bytes=1),
    "blocks-of-a-few-lines": dict(workers=1, block_bytes=400),
    "two-workers": dict(workers=2, block_bytes=300),
}


@pytest.mark.parametrize("cut", list(CUTS))
def test_reused_ids_are_flagged_by_one_rule_wherever_the_blocks_are_cut(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cut: str
) -> None:
    monkeypatch.setattr(pipeline, "MIN_PARALLEL_BYTES", 0)
    log = tmp_path / "ids.jsonl"
    log.write_bytes(b"\n".join(line for line, _ in LOG) + b"\n")
    summary = ingest([log], tmp_path / "ds", IngestOptions(**CUTS[cut]))  # type: ignore[arg-type]
    frames = {row["line"]: row for row in table(tmp_path / "ds", "frames")}
    assert {n: frames[n]["flags"] for n in frames} == {
        n: flags for n, (_, flags) in enumerate(LOG, 1)
    }
    assert summary.flags.get("duplicate_message_id") == 3
    assert "orphan_result" not in summary.flags
    # Each answer matched the latest CALL with its id.
    assert frames[3]["latency_ms"] == 200.0 and frames[3]["matched_action"] == "Heartbeat"
    assert frames[12]["latency_ms"] == 100.0
    assert frames[16]["matched_action"] == "StatusNotification"
    assert frames[16]["latency_ms"] == 50.0
