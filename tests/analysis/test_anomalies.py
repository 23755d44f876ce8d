"""Meter anomalies are flagged per session, never corrected."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ocppkit.toolkit.analysis.anomalies import FLAGS, session_anomalies
from tests.analysis.fixtures import meter_values as mv
from tests.analysis.fixtures import sessions

REG, POW = "Energy.Active.Import.Register", "Power.Active.Import"


def flags(row: pd.Series) -> set[str]:
    return {f for f in FLAGS if row[f]}


def test_clean_session_has_no_flag() -> None:
    values = mv(
        [
            (0, REG, "Wh", 1000),
            (30, REG, "Wh", 6500),
            (60, REG, "Wh", 12000),
            (0, POW, "W", 11000),
            (60, POW, "W", 11000),
        ]
    )
    result = session_anomalies(sessions({}), values).iloc[0]
    assert flags(result) == set() and not result.any_anomaly


def test_register_going_down_is_flagged_with_evidence_and_energy_kept() -> None:
    values = mv(
        [(0, REG, "Wh", 1000), (30, REG, "Wh", 9000), (40, REG, "Wh", 8000), (60, REG, "Wh", 12000)]
    )
    result = session_anomalies(sessions({}), values).iloc[0]
    assert flags(result) == {"non_monotonic_register"}
    assert "9000 to 8000" in result.evidence
    assert result.energy_wh == 11000.0  # not corrected


def test_zero_start_baseline_that_would_bill_the_lifetime_total_is_flagged() -> None:
    table = sessions(
        {"meter_start_wh": 0.0, "meter_stop_wh": 5_011_000.0, "energy_wh": 5_011_000.0}
    )
    values = mv([(0, REG, "Wh", 5_000_000), (60, REG, "Wh", 5_011_000)])
    result = session_anomalies(table, values).iloc[0]
    assert {"zero_start_baseline", "energy_exceeds_power_bound"} <= flags(result)


def test_missing_baseline_and_missing_stop_are_flagged() -> None:
    table = sessions(
        {"meter_start_wh": None, "meter_stop_wh": None, "stop_time": pd.NaT, "energy_wh": None}
    )
    result = (
        session_anomalies(table, mv([])).iloc[0]
        if False
        else session_anomalies(table, mv([(0, REG, "Wh", 1000)])).iloc[0]
    )
    assert {"missing_start_baseline", "missing_stop_value"} <= flags(result)


def test_1970_timestamp_is_flagged() -> None:
    values = mv([(0, REG, "Wh", 1000), (60, REG, "Wh", 12000)])
    values.loc[0, "timestamp"] = pd.Timestamp("1970-01-01T00:00:05Z")
    assert "implausible_timestamp" in flags(session_anomalies(sessions({}), values).iloc[0])


def test_kwh_reported_as_wh_is_suspected_from_the_power_integral() -> None:
    # The register moved 11 "Wh" while 11 kW flowed for an hour: a unit mix-up.
    table = sessions({"meter_start_wh": 1.0, "meter_stop_wh": 12.0, "energy_wh": 11.0})
    values = mv(
        [(0, REG, "Wh", 1), (60, REG, "Wh", 12), (0, POW, "W", 11000), (60, POW, "W", 11000)]
    )
    result = session_anomalies(table, values).iloc[0]
    assert "unit_mixup_suspected" in flags(result)
    assert "ratio 0.001" in result.evidence


def test_clock_skew_beyond_tolerance_is_flagged() -> None:
    skew = pd.Series({("CP1", "1"): 900.0})
    result = session_anomalies(sessions({}), mv([]), frames_skew_s=skew).iloc[0]
    assert flags(result) == {"clock_skew"}
    assert "900 s" in result.evidence


def test_evidence_keeps_every_digit_of_the_register() -> None:
    table = sessions({"meter_start_wh": 2300369.5, "meter_stop_wh": 2300400.0, "energy_wh": 30.5})
    values = mv([(0, REG, "Wh", 2300369.5), (10, REG, "Wh", 2300300.25)])
    (row,) = session_anomalies(table, values).itertuples(index=False)
    assert "register fell from 2300369.5 to 2300300.25 Wh" in row.evidence


def test_pandas_loaders_call_the_flags_column_anomaly_flags(tmp_path: Path) -> None:
    from ocppkit.toolkit.analysis.dataset import load
    from ocppkit.toolkit.ingest.pipeline import IngestOptions, ingest

    log = tmp_path / "log.jsonl"
    log.write_text(
        '{"timestamp":"2026-03-02T08:00:00Z","charge_point_id":"CP1","direction":"csms_to_cs",'
        '"ocpp_version":"1.6","message":[3,"nobody-asked",{}]}\n', encoding="utf-8",
    )  # fmt: skip
    ingest([log], tmp_path / "ds", IngestOptions(workers=1))
    frames = load(tmp_path / "ds").frames
    assert "flags" not in frames.columns
    assert list(frames["anomaly_flags"]) == ["orphan_result"]
    assert not isinstance(frames.flags, pd.Series)  # pandas' own DataFrame.flags is intact
