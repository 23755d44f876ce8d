"""`ocppkit ingest` and `ocppkit convert` as a user runs them."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
import typer
from typer.testing import CliRunner

from ocppkit.toolkit.commands import convert, ingest
from ocppkit.translators.errors import ConfigError
from ocppkit.translators.schemas import Kind
from ocppkit.translators.validation import Validator
from ocppkit.translators.versions import OcppVersion
from tests.ingest import fleet as F
from tests.ingest.helpers import sessions_by_tx, table


@pytest.fixture
def app() -> typer.Typer:
    app = typer.Typer()
    ingest.register(app)
    convert.register(app)
    return app


@pytest.fixture(scope="module")
def fleet() -> list[F.TruthSession]:
    return F.make_fleet(seed=9, chargers=2, sessions_per_evse=2)


def test_ingest_writes_the_dataset_and_prints_the_summary(
    app: typer.Typer, fleet: list[F.TruthSession], tmp_path: Path
) -> None:
    log = F.write(fleet, "1.6", "ocpp-logger", tmp_path / "csms.log")
    with log.open("ab") as fh:
        fh.write(b'2026-03-02 09:00:00,000 - ocpp - INFO - CP-1: send [3,"oops"\n')
    result = CliRunner().invoke(app, ["ingest", str(log), "--out", str(tmp_path / "ds"),
                                      "--no-progress"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "rows: frames" in result.output
    assert "quarantined: 1 x frame is not valid JSON" in result.output
    assert len(sessions_by_tx(tmp_path / "ds")) == len(fleet)


def test_ingest_hashing_needs_a_salt(app: typer.Typer, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["ingest", "x.log", "--out", str(tmp_path), "--hash-id-tokens"]
    )
    assert isinstance(result.exception, ConfigError)


def test_ingest_of_a_missing_file_fails_as_a_usage_error(tmp_path: Path) -> None:
    import subprocess
    import sys

    code = ("import sys; from ocppkit.toolkit.cli import app, main; "
            "from ocppkit.toolkit.commands import ingest; "
            "ingest.register(app); sys.argv = ['ocppkit'] + sys.argv[1:]; main()")  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-c", code, "ingest", str(tmp_path / "nope.log"), "--out",
         str(tmp_path / "ds")], capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2
    assert "nope.log: no such file" in done.stderr


def test_convert_frame_log_to_journal_then_ingest_gives_the_truth(
    app: typer.Typer, fleet: list[F.TruthSession], tmp_path: Path
) -> None:
    log = F.write(fleet, "2.0.1", "frames", tmp_path / "frames.log")
    journal = tmp_path / "j.jsonl"
    result = CliRunner().invoke(app, ["convert", str(log), "--out", str(journal)])
    assert result.exit_code == 0, result.output
    first = orjson.loads(journal.read_bytes().splitlines()[0])
    assert first["ocpp_version"] == "2.0.1" and first["direction"] == "cs_to_csms"
    result = CliRunner().invoke(app, ["ingest", str(journal), "--out", str(tmp_path / "ds"),
                                      "--no-progress"])  # fmt: skip
    assert result.exit_code == 0, result.output
    got = sessions_by_tx(tmp_path / "ds")
    for truth in fleet:
        expected = truth.row()
        assert {k: got[truth.tx][k] for k in expected} == expected


def test_convert_soap_capture_keeps_the_envelopes_in_the_journal(
    app: typer.Typer, fleet: list[F.TruthSession], tmp_path: Path
) -> None:
    log = F.write(fleet[:1], "1.5", "soap15", tmp_path / "soap.log")
    journal = tmp_path / "j.jsonl"
    result = CliRunner().invoke(app, ["convert", str(log), "--out", str(journal)])
    assert result.exit_code == 0, result.output
    records = [orjson.loads(line) for line in journal.read_bytes().splitlines()]
    assert all(r["ocpp_version"] == "1.5" and "Envelope" in r["message"] for r in records)
    assert {r["charge_point_id"] for r in records} == {fleet[0].cp}


def test_convert_to_201_translates_through_the_bridge_and_keeps_sessions(
    app: typer.Typer, fleet: list[F.TruthSession], tmp_path: Path
) -> None:
    log = F.write(fleet, "1.6", "journal", tmp_path / "16.jsonl")
    out = tmp_path / "201.jsonl"
    result = CliRunner().invoke(
        app, ["convert", str(log), "--to-version", "2.0.1", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    validator = Validator()
    records = [orjson.loads(line) for line in out.read_bytes().splitlines()]
    assert records and all(r["ocpp_version"] == "2.0.1" for r in records)
    for r in records:
        if r["message"][0] == 2:
            validator.validate(OcppVersion.V201, r["message"][2], Kind.REQUEST, r["message"][3])
    summary_ds = tmp_path / "ds"
    result = CliRunner().invoke(
        app, ["ingest", str(out), "--out", str(summary_ds), "--no-progress"]
    )
    assert result.exit_code == 0, result.output
    got = sorted(
        table(summary_ds, "sessions"), key=lambda r: (r["charge_point_id"], r["start_time"])
    )
    truth = sorted(fleet, key=lambda s: (s.cp, s.start))
    assert [(r["energy_wh"], r["duration_s"], r["stop_reason"]) for r in got] == [
        (float(s.energy_wh), float(s.charging_s + s.idle_s), s.reason) for s in truth
    ]


def test_convert_journal_to_parquet_frames(
    app: typer.Typer, fleet: list[F.TruthSession], tmp_path: Path
) -> None:
    log = F.write(fleet, "1.6", "journal", tmp_path / "16.jsonl")
    result = CliRunner().invoke(app, ["convert", str(log), "--to", "parquet", "--out",
                                      str(tmp_path / "pq")])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "pq").iterdir()) == ["_summary.json", "frames",
                                                                  "quarantine"]  # fmt: skip
    assert len(table(tmp_path / "pq", "frames")) == len(log.read_bytes().splitlines())
