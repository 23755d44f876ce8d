"""Small hand-made tables in the ingested dataset's shape, for KPI tests."""

from __future__ import annotations

import pandas as pd

T0 = pd.Timestamp("2026-03-02T08:00:00Z")


def minutes(m: float) -> pd.Timestamp:
    return T0 + pd.Timedelta(minutes=m)


def sessions(*rows: dict[str, object]) -> pd.DataFrame:
    defaults: dict[str, object] = {
        "charge_point_id": "CP1",
        "evse_id": 1,
        "connector_id": 1,
        "transaction_id": "1",
        "id_token": "TAG",
        "start_time": T0,
        "stop_time": minutes(60),
        "duration_s": 3600.0,
        "energy_wh": 11000.0,
        "meter_start_wh": 1000.0,
        "meter_stop_wh": 12000.0,
        "max_power_w": 11000.0,
        "charging_s": 3600.0,
        "idle_s": 0.0,
        "stop_reason": "Local",
        "ocpp_version": "1.6",
    }
    return pd.DataFrame([{**defaults, **row} for row in rows])


def meter_values(rows: list[tuple[float, str, str, float]], tx: str = "1") -> pd.DataFrame:
    """``rows`` of (minute, measurand, unit, value)."""
    columns = [
        "timestamp",
        "charge_point_id",
        "connector_id",
        "transaction_id",
        "measurand",
        "unit",
        "value",
    ]
    return pd.DataFrame(
        [
            {
                "timestamp": minutes(m),
                "charge_point_id": "CP1",
                "connector_id": 1,
                "transaction_id": tx,
                "measurand": ms,
                "unit": u,
                "value": v,
            }
            for m, ms, u, v in rows
        ],
        columns=columns,
    )
