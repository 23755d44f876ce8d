"""Availability under NEVI (23 CFR 680.116(b)) and UK PCPR 2023, hand-computed fixtures."""

from __future__ import annotations

import pandas as pd
import pytest

from ocppkit.toolkit.analysis.availability import (
    Exclusion,
    nevi_uptime,
    offline_windows,
    status_intervals,
    uk_network_reliability,
)

DAY0 = pd.Timestamp("2026-03-01T00:00:00Z")
DAY1 = pd.Timestamp("2026-03-02T00:00:00Z")  # 1,440 minutes


def at(hhmm: str) -> pd.Timestamp:
    return pd.Timestamp(f"2026-03-01T{hhmm}:00Z")


def events(*rows: tuple[str, str, int, str]) -> pd.DataFrame:
    return pd.DataFrame(
        [(at(t), cp, c, s) for t, cp, c, s in rows],
        columns=["timestamp", "charge_point_id", "evse_id", "connector_status"],
    )


def test_port_faulted_for_one_hour_of_a_day_has_95_8_percent_uptime() -> None:
    ev = events(
        ("00:00", "CP1", 1, "Available"),
        ("10:00", "CP1", 1, "Faulted"),
        ("11:00", "CP1", 1, "Available"),
    )
    result = nevi_uptime(status_intervals(ev, DAY0, DAY1)).iloc[0]
    assert result.total_min == 1440 and result.outage_min == 60 and result.excluded_min == 0
    assert result.uptime_pct == pytest.approx(100 * 1380 / 1440)
    assert not result.meets_97


def test_charging_suspended_and_reserved_count_as_up() -> None:
    ev = events(
        ("00:00", "CP1", 1, "Available"),
        ("01:00", "CP1", 1, "Preparing"),
        ("01:05", "CP1", 1, "Charging"),
        ("02:00", "CP1", 1, "SuspendedEV"),
        ("03:00", "CP1", 1, "Finishing"),
        ("03:10", "CP1", 1, "Reserved"),
    )
    assert nevi_uptime(status_intervals(ev, DAY0, DAY1)).iloc[0].uptime_pct == 100.0


def test_utility_interruption_is_excluded_from_nevi_outage() -> None:
    ev = events(
        ("00:00", "CP1", 1, "Available"),
        ("10:00", "CP1", 1, "Faulted"),
        ("11:00", "CP1", 1, "Available"),
    )
    grid = Exclusion(at("10:00"), at("10:45"), "utility_interruption")
    result = nevi_uptime(status_intervals(ev, DAY0, DAY1), [grid]).iloc[0]
    assert result.excluded_min == 45
    assert result.uptime_pct == pytest.approx(100 * (1440 - 15) / 1440)
    assert result.meets_97


def test_exclusion_that_the_rule_does_not_allow_is_refused() -> None:
    ev = events(("00:00", "CP1", 1, "Faulted"))
    with pytest.raises(ValueError, match="not a NEVI exclusion"):
        nevi_uptime(status_intervals(ev, DAY0, DAY1), [Exclusion(DAY0, DAY1, "software_bug")])


def test_exclusion_only_covers_outage_minutes_not_working_ones() -> None:
    ev = events(
        ("00:00", "CP1", 1, "Available"),
        ("10:00", "CP1", 1, "Faulted"),
        ("11:00", "CP1", 1, "Available"),
    )
    maintenance = Exclusion(at("09:00"), at("12:00"), "scheduled_maintenance", "CP1", 1)
    result = nevi_uptime(status_intervals(ev, DAY0, DAY1), [maintenance]).iloc[0]
    assert result.excluded_min == 60 and result.uptime_pct == 100.0


def test_station_level_fault_takes_every_port_down() -> None:
    ev = events(
        ("00:00", "CP1", 1, "Available"),
        ("00:00", "CP1", 2, "Available"),
        ("06:00", "CP1", 0, "Faulted"),
        ("08:00", "CP1", 0, "Available"),
    )
    result = nevi_uptime(status_intervals(ev, DAY0, DAY1))
    assert list(result.evse_id) == [1, 2]
    assert list(result.outage_min) == [120, 120]


def test_time_before_first_status_and_offline_time_are_outage_under_nevi() -> None:
    ev = events(("01:00", "CP1", 1, "Available"))
    frames = pd.DataFrame(
        {"timestamp": [at("01:00"), at("12:00")], "charge_point_id": ["CP1", "CP1"]}
    )
    offline = offline_windows(frames, pd.Timedelta(minutes=10), DAY1)
    assert offline == {"CP1": [(at("01:10"), at("12:00")), (at("12:10"), DAY1)]}
    result = nevi_uptime(status_intervals(ev, DAY0, DAY1, offline)).iloc[0]
    # 60 min before the first status + 650 + 710 offline minutes
    assert result.outage_min == 60 + 650 + 710


def test_closed_hours_do_not_count_against_nevi_uptime() -> None:
    ev = events(("00:00", "CP1", 1, "Unavailable"), ("06:00", "CP1", 1, "Available"))
    night = [(DAY0, at("06:00"))]
    assert (
        nevi_uptime(status_intervals(ev, DAY0, DAY1), closed_hours=night).iloc[0].uptime_pct
        == 100.0
    )


def test_uk_network_reliability_averages_rapid_points_only_and_ignores_unknown_time() -> None:
    ev = events(
        # rapid point: 2 h of 24 out of order -> 22/24 working
        ("00:00", "RAPID", 1, "Available"),
        ("10:00", "RAPID", 1, "Faulted"),
        ("12:00", "RAPID", 1, "Available"),
        # second rapid point: unknown until 12:00, then working -> 100 %
        ("12:00", "RAPID2", 1, "Charging"),
        # slow point, always faulted: not in the rapid network
        ("00:00", "SLOW", 1, "Faulted"),
    )
    network, table = uk_network_reliability(
        status_intervals(ev, DAY0, DAY1), {"RAPID": 150.0, "RAPID2": 50.0, "SLOW": 22.0}
    )
    assert list(table.charge_point_id) == ["RAPID", "RAPID2"]
    assert table.reliability_pct.tolist() == pytest.approx([100 * 22 / 24, 100.0])
    assert network == pytest.approx((100 * 22 / 24 + 100.0) / 2)


def test_uk_point_with_one_working_connector_is_working() -> None:
    ev = events(("00:00", "R", 1, "Available"), ("00:00", "R", 2, "Faulted"))
    network, _ = uk_network_reliability(status_intervals(ev, DAY0, DAY1), {"R": 300.0})
    assert network == 100.0
