"""Session KPIs against hand-computed values."""

from __future__ import annotations

import pandas as pd
import pytest

from ocppkit.toolkit.analysis.sessions import (
    fleet_summary,
    session_kpis,
    sessions_per_port_per_day,
    start_hour_heatmap,
    utilisation,
)
from tests.analysis.fixtures import T0, minutes, sessions


def test_kpis_convert_units_and_split_charging_from_idle_time() -> None:
    table = sessions(
        {
            "duration_s": 5400.0,
            "charging_s": 3600.0,
            "idle_s": 1800.0,
            "energy_wh": 22000.0,
            "max_power_w": 22000.0,
            "stop_time": minutes(90),
        }
    )
    row = session_kpis(table).iloc[0]
    assert row.energy_kwh == 22.0
    assert row.duration_h == 1.5 and row.charging_h == 1.0 and row.idle_h == 0.5
    assert row.mean_power_kw == 22.0  # energy over charging time, not over plug-in time
    assert row.peak_power_kw == 22.0
    assert row.idle_share == pytest.approx(1 / 3)


def test_session_without_charging_time_has_no_mean_power_rather_than_infinity() -> None:
    row = session_kpis(sessions({"charging_s": 0.0, "energy_wh": 0.0})).iloc[0]
    assert pd.isna(row.mean_power_kw)


def test_utilisation_clips_sessions_to_the_period() -> None:
    table = sessions(
        {
            "transaction_id": "1",
            "start_time": T0,
            "stop_time": minutes(120),
            "duration_s": 7200.0,
            "charging_s": 3600.0,
        },
        {
            "transaction_id": "2",
            "evse_id": 2,
            "start_time": minutes(-60),
            "stop_time": minutes(60),
            "duration_s": 7200.0,
            "charging_s": 7200.0,
        },
    )
    day = utilisation(table, T0, minutes(24 * 60))
    # port-time: 2 ports x 24 h. Charging: 1 h + half of session 2's 2 h = 2 h.
    assert day["ports"] == 2
    assert day["charging_pct"] == pytest.approx(100 * 2 / 48)
    # occupied: 2 h + 1 h (clipped) = 3 h
    assert day["occupancy_pct"] == pytest.approx(100 * 3 / 48)


def test_sessions_are_counted_per_connector_per_day() -> None:
    table = sessions(
        {"transaction_id": "1"},
        {"transaction_id": "2", "start_time": minutes(120)},
        {"transaction_id": "3", "start_time": minutes(24 * 60)},
    )
    daily = sessions_per_port_per_day(table)
    assert daily["sessions"].tolist() == [2, 1]
    assert daily["energy_kwh"].tolist() == [22.0, 11.0]


def test_fleet_summary_totals() -> None:
    summary = fleet_summary(
        sessions({"transaction_id": "1"}, {"transaction_id": "2", "charge_point_id": "CP2"})
    )
    assert summary["sessions"] == 2 and summary["chargers"] == 2
    assert summary["energy_kwh"] == 22.0


def test_start_hour_heatmap_uses_local_time() -> None:
    table = sessions({"start_time": pd.Timestamp("2026-03-02T23:30:00Z")})  # Monday 23:30 UTC
    heat = start_hour_heatmap(table, tz="Europe/Berlin")  # Tuesday 00:30 local
    assert heat.loc[1, 0] == 1 and heat.to_numpy().sum() == 1
