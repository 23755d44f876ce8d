"""Fault and ChargeX KPIs against hand-computed values."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from ocppkit.toolkit.analysis.availability import status_intervals
from ocppkit.toolkit.analysis.chargex import chargex_kpis
from ocppkit.toolkit.analysis.faults import callerror_rates, faults_by_code, reboots, reliability
from tests.analysis.fixtures import minutes, sessions

DAY_END = minutes(24 * 60)


def faults(*rows: tuple[str, int, float, float | None, str]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "charge_point_id": cp,
                "evse_id": evse,
                "start_time": minutes(a),
                "end_time": None if b is None else minutes(b),
                "duration_s": None if b is None else (b - a) * 60.0,
                "error_code": code,
                "vendor_error_code": None,
            }
            for cp, evse, a, b, code in rows
        ]
    )


def frame(t: float, cp: str, mtype: int, action: str | None, payload: dict, matched=None):  # type: ignore[no-untyped-def]
    return {
        "timestamp": minutes(t),
        "charge_point_id": cp,
        "message_type": mtype,
        "action": action,
        "payload": json.dumps(payload),
        "matched_action": matched,
    }


def test_faults_pareto_orders_codes_by_count_with_hours() -> None:
    table = faults_by_code(
        faults(
            ("CP1", 1, 0, 60, "GroundFailure"),
            ("CP2", 1, 0, 30, "GroundFailure"),
            ("CP1", 1, 100, 110, "OverVoltage"),
        )
    )
    assert table["code"].tolist() == ["GroundFailure", "OverVoltage"]
    assert table["faults"].tolist() == [2, 1] and table["chargers"].tolist() == [2, 1]
    assert table["hours"].tolist() == [1.5, pytest.approx(10 / 60)]
    assert table["share_pct"].tolist() == pytest.approx([200 / 3, 100 / 3])


def test_mtbf_is_working_time_over_faults_and_mttr_the_mean_repair() -> None:
    events = pd.DataFrame(
        [
            (minutes(0), "CP1", 1, "Available"),
            (minutes(600), "CP1", 1, "Faulted"),
            (minutes(660), "CP1", 1, "Available"),
            (minutes(1200), "CP1", 1, "Faulted"),
            (minutes(1230), "CP1", 1, "Available"),
        ],
        columns=["timestamp", "charge_point_id", "evse_id", "connector_status"],
    )
    intervals = status_intervals(events, minutes(0), DAY_END)
    row = reliability(
        faults(("CP1", 1, 600, 660, "GroundFailure"), ("CP1", 1, 1200, 1230, "GroundFailure")),
        intervals,
    ).iloc[0]
    assert row.faults == 2
    assert row.working == pytest.approx(22.5)  # 24 h - 1.5 h faulted
    assert row.mtbf_h == pytest.approx(11.25)
    assert row.mttr_h == pytest.approx(0.75)


def test_reboots_are_counted_per_reason() -> None:
    frames = pd.DataFrame(
        [
            frame(0, "CP1", 2, "BootNotification", {"reason": "PowerUp"}),
            frame(9, "CP1", 2, "BootNotification", {"reason": "Watchdog"}),
            frame(1, "CP2", 2, "BootNotification", {"chargePointVendor": "V"}),
            frame(2, "CP2", 3, None, {"status": "Accepted"}, "BootNotification"),
        ]
    )
    table = reboots(frames)
    assert table.to_dict("records") == [
        {"charge_point_id": "CP1", "reason": "PowerUp", "boots": 1},
        {"charge_point_id": "CP1", "reason": "Watchdog", "boots": 1},
        {"charge_point_id": "CP2", "reason": "unreported", "boots": 1},
    ]


def test_callerror_rates_per_action() -> None:
    frames = pd.DataFrame(
        [
            frame(0, "CP1", 3, None, {}, "Reset"),
            frame(1, "CP1", 4, None, {}, "Reset"),
            frame(2, "CP1", 3, None, {}, "Heartbeat"),
        ]
    )
    table = callerror_rates(frames)
    assert table.iloc[0].to_dict() == {
        "action": "Reset",
        "answered": 2,
        "callerrors": 1,
        "error_pct": 50.0,
    }


def test_chargex_start_and_end_success_from_authorisations_and_stop_reasons() -> None:
    frames = pd.DataFrame(
        [
            frame(0, "CP1", 3, None, {"idTagInfo": {"status": "Accepted"}}, "Authorize"),
            frame(100, "CP1", 3, None, {"idTagInfo": {"status": "Accepted"}}, "Authorize"),
            frame(200, "CP1", 3, None, {"idTagInfo": {"status": "Invalid"}}, "Authorize"),
        ]
    )
    table = sessions(
        {"transaction_id": "1", "start_time": minutes(0.5), "stop_reason": "EVDisconnected"},
        {"transaction_id": "2", "start_time": minutes(300), "stop_reason": "EmergencyStop"},
    )
    kpis = chargex_kpis(frames, table)
    # two accepted authorisations, one followed by a start 30 s later
    assert kpis["start_attempts"] == 2
    assert kpis["charge_start_success_pct"] == 50.0
    assert kpis["charge_end_success_pct"] == 50.0
    assert kpis["session_success_pct"] == 25.0
    assert kpis["charge_start_time_median_s"] == 30.0
