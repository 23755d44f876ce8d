"""Costs from the sample tariff, hand-computed, and compared with CSMS-reported totals."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pandas as pd

from ocppkit.toolkit.analysis.costs import compare_costs, reported_costs, session_costs
from ocppkit.toolkit.tariff import load_tariff
from tests.analysis.fixtures import sessions

TARIFF = load_tariff(
    Path(__file__).resolve().parents[2] / "datasets" / "tariffs" / "sample-tariff.toml"
)
REG = "Energy.Active.Import.Register"


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(f"2026-03-02T{text}:00Z")  # a Monday


def register(tx: str, rows: list[tuple[str, float]]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "timestamp": ts(t),
                "charge_point_id": "CP1",
                "transaction_id": tx,
                "measurand": REG,
                "value": v,
            }
            for t, v in rows
        ]
    )


def test_idle_fee_after_grace_and_vat_on_an_off_peak_session() -> None:
    # 09:00-11:00 Amsterdam: 1 h charging 11 kWh, then 1 h plugged in idle.
    table = sessions({"start_time": ts("08:00"), "stop_time": ts("10:00"), "energy_wh": 11000.0})
    meter = register("1", [("08:00", 1000), ("09:00", 12000), ("10:00", 12000)])
    states = pd.DataFrame(
        [
            {
                "timestamp": ts("08:00"),
                "charge_point_id": "CP1",
                "evse_id": 1,
                "charging_state": "Charging",
            },
            {
                "timestamp": ts("09:00"),
                "charge_point_id": "CP1",
                "evse_id": 1,
                "charging_state": "SuspendedEV",
            },
        ]
    )
    cost = session_costs(TARIFF, table, meter, states).iloc[0]
    assert cost.energy == Decimal("3.85")  # 11 kWh x 0.35
    assert cost.parking == Decimal("3.00")  # (60 - 30 grace) min x 6.00/h
    assert cost.flat == Decimal("0.50")
    assert cost.vat == Decimal("1.54")  # 21 % of 7.35 = 1.5435
    assert cost.total == Decimal("8.89")
    assert cost.parking_min == 30.0


def test_time_of_use_boundary_splits_the_energy_price() -> None:
    # 16:30-17:30 Amsterdam, 10 kWh evenly: half before the 17:00 peak, half in it.
    table = sessions(
        {
            "start_time": ts("15:30"),
            "stop_time": ts("16:30"),
            "energy_wh": 10000.0,
            "meter_start_wh": 0.0,
            "meter_stop_wh": 10000.0,
        }
    )
    meter = register("1", [("15:30", 0), ("16:00", 5000), ("16:30", 10000)])
    cost = session_costs(TARIFF, table, meter).iloc[0]
    assert cost.energy == Decimal("4.00")  # 5 x 0.35 + 5 x 0.45
    assert cost.vat == Decimal("0.95")  # 21 % of 4.50 = 0.945, half up
    assert cost.total == Decimal("5.45")


def test_reported_total_cost_is_joined_to_its_transaction_and_compared() -> None:
    event = {
        "eventType": "Ended",
        "timestamp": "2026-03-02T10:00:00Z",
        "triggerReason": "EVDeparted",
        "seqNo": 3,
        "transactionInfo": {"transactionId": "1"},
    }
    frames = pd.DataFrame(
        [
            {
                "timestamp": ts("10:00"),
                "charge_point_id": "CP1",
                "message_type": 2,
                "message_id": "m1",
                "action": "TransactionEvent",
                "payload": json.dumps(event),
                "matched_action": None,
            },
            {
                "timestamp": ts("10:00"),
                "charge_point_id": "CP1",
                "message_type": 3,
                "message_id": "m1",
                "action": None,
                "payload": json.dumps({"totalCost": 8.89}),
                "matched_action": "TransactionEvent",
            },
        ]
    )
    reported = reported_costs(frames)
    assert reported.to_dict("records") == [
        {"charge_point_id": "CP1", "transaction_id": "1", "reported": 8.89}
    ]
    computed = pd.DataFrame(
        [
            {"charge_point_id": "CP1", "transaction_id": "1", "total": Decimal("8.89")},
            {"charge_point_id": "CP1", "transaction_id": "2", "total": Decimal("1.00")},
        ]
    )
    table = compare_costs(computed, reported)
    assert table["matches"].tolist() == [True, False]
    assert pd.isna(table["reported"].iloc[1])
