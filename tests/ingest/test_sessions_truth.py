"""The sessions table equals the ground truth, in every log shape and version."""

from __future__ import annotations

from pathlib import Path

import pytest

from ocppkit.toolkit.ingest import IngestOptions, ingest
from ocppkit.toolkit.translate_stream import translate_lines, translator_for
from ocppkit.translators.journal import decode_record
from ocppkit.translators.versions import OcppVersion
from tests.ingest import fleet as F
from tests.ingest.helpers import sessions_by_tx, table

CASES = [
    ("1.6", "journal"), ("1.6", "frames"), ("1.6", "ocpp-logger"),
    ("2.0.1", "journal"), ("2.0.1", "frames"), ("2.0.1", "ocpp-logger"), ("2.1", "journal"),
    ("1.5", "journal"), ("1.5", "soap15"),
]  # fmt: skip
V201, V21 = OcppVersion.V201, OcppVersion.V21
# 1.5 has no stop reason (absent = Local) and cannot tell charging from suspended.
NOT_IN_15 = {"charging_s": None, "idle_s": None, "stop_reason": "Local"}


@pytest.fixture(scope="module")
def fleet() -> list[F.TruthSession]:
    return F.make_fleet(seed=7, chargers=3, sessions_per_evse=3)


@pytest.mark.parametrize(("version", "fmt"), CASES, ids=[f"{v}-{f}" for v, f in CASES])
def test_sessions_equal_ground_truth(
    fleet: list[F.TruthSession], tmp_path: Path, version: str, fmt: str
) -> None:
    log = F.write(fleet, version, fmt, tmp_path / "log")
    summary = ingest([log], tmp_path / "ds", IngestOptions(workers=1))
    assert summary.files == {str(log): fmt}
    assert summary.quarantined == 0
    got = sessions_by_tx(tmp_path / "ds")
    assert set(got) == {s.tx for s in fleet}
    for truth in fleet:
        row = got[truth.tx]
        expected = truth.row() | (NOT_IN_15 if version == "1.5" else {})
        assert {k: row[k] for k in expected} == expected, truth.tx
        assert row["ocpp_version"] == version
        assert row["flags"] is None


def test_same_fleet_in_16_and_201_gives_identical_sessions(
    fleet: list[F.TruthSession], tmp_path: Path
) -> None:
    tables = {}
    for version in ("1.6", "2.0.1"):
        log = F.write(fleet, version, "journal", tmp_path / f"{version}.jsonl")
        ingest([log], tmp_path / version, IngestOptions(workers=1))
        rows = sorted(table(tmp_path / version, "sessions"), key=lambda r: r["transaction_id"])
        for row in rows:  # the version columns
            del row["ocpp_version"], row["stop_reason_wire"]
        tables[version] = rows
    assert tables["1.6"] == tables["2.0.1"]
    assert len(tables["1.6"]) == len(fleet)


def test_same_fleet_in_201_and_translated_to_21_gives_identical_sessions(
    fleet: list[F.TruthSession], tmp_path: Path
) -> None:
    """The 2.0.1 journal, and the same journal translated to 2.1 as the bridge would
    (``ocppkit translate --to 2.1``): one sessions table, but for the version column."""
    log201 = F.write(fleet, "2.0.1", "journal", tmp_path / "201.jsonl")
    lines = log201.read_bytes().splitlines()
    out: list[bytes] = []
    outcome = translate_lines(enumerate(lines, 1), translator_for(V201, V21), out.append)
    assert outcome.ok and outcome.counts["left_out"] == 0
    log21 = tmp_path / "21.jsonl"
    log21.write_bytes(b"".join(out))
    assert {decode_record(line).ocpp_version for line in out} == {V21}
    tables = {}
    for name, log in (("2.0.1", log201), ("2.1", log21)):
        ingest([log], tmp_path / name, IngestOptions(workers=1))
        rows = sorted(table(tmp_path / name, "sessions"), key=lambda r: r["transaction_id"])
        assert {row.pop("ocpp_version") for row in rows} == {name}
        tables[name] = rows
    assert tables["2.0.1"] == tables["2.1"]
    assert len(tables["2.1"]) == len(fleet)


def test_lossy_16_stop_reasons_map_to_other_and_are_flagged(tmp_path: Path) -> None:
    base = F.make_fleet(seed=3, chargers=1, sessions_per_evse=1)
    fleet = [
        F.TruthSession(**{**s.__dict__, "reason16": r16, "reason201": None, "reason": "Other"})
        for s, r16 in zip(base, ("SoftReset", "UnlockCommand"), strict=True)
    ]
    log = F.write(fleet, "1.6", "journal", tmp_path / "log")
    summary = ingest([log], tmp_path / "ds", IngestOptions(workers=1))
    rows = sessions_by_tx(tmp_path / "ds")
    assert {r["stop_reason_wire"]: r["stop_reason"] for r in rows.values()} == {
        "SoftReset": "Other",
        "UnlockCommand": "Other",
    }
    assert all(r["flags"] == "lossy_stop_reason" for r in rows.values())
    assert summary.flags["lossy_stop_reason"] == 2
