"""Costs: a tariff applied to every session, and compared with what the CSMS billed.

The pricing itself is :func:`ocppkit.toolkit.tariff.cost_of_session` (OCPI 2.2.1
model, Decimal money); this module feeds it each session's energy register
samples and charging intervals from the dataset, and finds the cost the CSMS
reported (2.0.1 ``TransactionEventResponse.totalCost`` for the Ended event,
or the last ``CostUpdated``) so the two can be compared.
"""

from __future__ import annotations

import json
from decimal import Decimal

import pandas as pd

from ocppkit.toolkit.tariff import Tariff, cost_of_session

REGISTER = "Energy.Active.Import.Register"


def _charging_intervals(
    status_events: pd.DataFrame,
) -> dict[tuple[str, int], list[tuple[pd.Timestamp, pd.Timestamp]]]:
    """Per (charger, evse): the intervals whose charging state is Charging."""
    ev = status_events.dropna(subset=["charging_state"]).sort_values("timestamp", kind="stable")
    out: dict[tuple[str, int], list[tuple[pd.Timestamp, pd.Timestamp]]] = {}
    for (cp, evse), group in ev.groupby(["charge_point_id", "evse_id"], sort=False):
        spans: list[tuple[pd.Timestamp, pd.Timestamp]] = []
        since = None
        for t, state in zip(group["timestamp"], group["charging_state"], strict=True):
            if state == "Charging" and since is None:
                since = t
            elif state != "Charging" and since is not None:
                spans.append((since, t))
                since = None
        if since is not None:
            spans.append((since, pd.Timestamp.max.tz_localize("UTC")))
        out[(str(cp), int(evse))] = spans
    return out


def session_costs(
    tariff: Tariff,
    sessions: pd.DataFrame,
    meter_values: pd.DataFrame,
    status_events: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Price every closed session under ``tariff``.

    Charging time comes from the charging-state intervals in ``status_events``
    when present (the time a TIME price and the idle fee depend on); without
    them, the meter decides (spans where the register does not move are idle).

    Returns:
        per session: ``energy``, ``time``, ``parking``, ``flat``, ``vat``,
        ``total`` (Decimal), ``currency``, ``billed_kwh``, ``parking_min``.
    """
    registers = {
        key: list(zip(g["timestamp"], g["value"], strict=True))
        for key, g in meter_values[meter_values["measurand"] == REGISTER]
        .dropna(subset=["transaction_id", "value"])
        .sort_values("timestamp", kind="stable")
        .groupby(["charge_point_id", "transaction_id"], sort=False)
    }
    charging = _charging_intervals(status_events) if status_events is not None else {}
    rows = []
    for s in sessions.dropna(subset=["start_time", "stop_time"]).itertuples(index=False):
        start, stop = s.start_time.to_pydatetime(), s.stop_time.to_pydatetime()
        # The session's own start and stop registers bound the samples: the
        # sessions table is authoritative for them (a 1.6 meterStart row in
        # meter_values may not carry the transaction id yet).
        bounds = {}
        if not pd.isna(s.meter_start_wh):
            bounds[start] = Decimal(repr(float(s.meter_start_wh)))
        if not pd.isna(s.meter_stop_wh):
            bounds[stop] = Decimal(repr(float(s.meter_stop_wh)))
        inner = {
            t.to_pydatetime(): Decimal(repr(float(v)))
            for t, v in registers.get((s.charge_point_id, s.transaction_id), [])
            if start < t.to_pydatetime() < stop
        }
        samples = sorted({**inner, **bounds}.items())
        spans = [
            (max(a, s.start_time).to_pydatetime(), min(b, s.stop_time).to_pydatetime())
            for a, b in charging.get((s.charge_point_id, int(s.evse_id)), [])
            if b > s.start_time and a < s.stop_time
        ]
        energy = None if pd.isna(s.energy_wh) else Decimal(repr(float(s.energy_wh)))
        cost = cost_of_session(
            tariff,
            start,
            stop,
            meter=samples if len(samples) >= 2 else None,
            charging=spans if (s.charge_point_id, int(s.evse_id)) in charging else None,
            energy_wh=energy if len(samples) < 2 else None,
        )
        rows.append(
            {
                "charge_point_id": s.charge_point_id,
                "transaction_id": s.transaction_id,
                "energy": cost.energy,
                "time": cost.time,
                "parking": cost.parking,
                "flat": cost.flat,
                "vat": cost.vat,
                "total": cost.total,
                "currency": cost.currency,
                "billed_kwh": float(cost.energy_wh) / 1000.0,
                "parking_min": float(cost.parking_seconds) / 60.0,
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            "charge_point_id",
            "transaction_id",
            "energy",
            "time",
            "parking",
            "flat",
            "vat",
            "total",
            "currency",
            "billed_kwh",
            "parking_min",
        ],
    )


def reported_costs(frames: pd.DataFrame) -> pd.DataFrame:
    """The last totalCost the CSMS reported per transaction (2.0.1).

    Sources: ``CostUpdated`` calls (they carry the transactionId), and
    ``TransactionEventResponse.totalCost`` joined to its request by message id
    (the response does not name the transaction).
    """
    rows: list[tuple[str, str, pd.Timestamp, float]] = []
    calls = frames[frames["message_type"] == 2]
    for r in calls[calls["action"] == "CostUpdated"].itertuples(index=False):
        body = json.loads(r.payload)
        rows.append((r.charge_point_id, str(body["transactionId"]), r.timestamp, body["totalCost"]))
    events = calls[calls["action"] == "TransactionEvent"]
    tx_of = {
        (r.charge_point_id, r.message_id): json.loads(r.payload)["transactionInfo"]["transactionId"]
        for r in events.itertuples(index=False)
    }
    results = frames[
        (frames["message_type"] == 3) & (frames["matched_action"] == "TransactionEvent")
    ]
    for r in results.itertuples(index=False):
        body = json.loads(r.payload)
        tx = tx_of.get((r.charge_point_id, r.message_id))
        if "totalCost" in body and tx is not None:
            rows.append((r.charge_point_id, str(tx), r.timestamp, body["totalCost"]))
    table = pd.DataFrame(
        rows, columns=["charge_point_id", "transaction_id", "timestamp", "reported"]
    )
    return (
        table.sort_values("timestamp", kind="stable")
        .groupby(["charge_point_id", "transaction_id"], sort=True)
        .last()
        .reset_index()[["charge_point_id", "transaction_id", "reported"]]
    )


def compare_costs(
    computed: pd.DataFrame, reported: pd.DataFrame, tolerance: float = 0.01
) -> pd.DataFrame:
    """Computed vs reported totals per transaction, with the difference and a match flag."""
    table = computed.merge(reported, on=["charge_point_id", "transaction_id"], how="left")
    table["computed"] = table["total"].map(float)
    table["difference"] = table["reported"] - table["computed"]
    table["matches"] = table["difference"].abs() <= tolerance
    return table[
        ["charge_point_id", "transaction_id", "computed", "reported", "difference", "matches"]
    ]
