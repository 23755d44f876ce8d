"""Session KPIs: energy, durations, power, utilisation.

Input is the ``sessions`` table of an ingested dataset (one row per
transaction, any OCPP version; see :mod:`ocppkit.toolkit.ingest.model`): energies in
Wh, durations in seconds, power in W, times as UTC timestamps. Outputs use
the units analysts read: kWh, hours, kW, percent.
"""

from __future__ import annotations

import pandas as pd


def session_kpis(sessions: pd.DataFrame) -> pd.DataFrame:
    """Per-session KPIs in analyst units.

    Returns:
        the session keys plus ``energy_kwh``, ``duration_h``, ``charging_h``,
        ``idle_h`` (plugged in, not charging), ``mean_power_kw`` (energy over
        charging time), ``peak_power_kw`` and ``idle_share`` (idle / duration).
    """
    out = sessions[
        [
            "charge_point_id",
            "evse_id",
            "transaction_id",
            "start_time",
            "stop_time",
            "stop_reason",
        ]
    ].copy()
    out["energy_kwh"] = sessions["energy_wh"] / 1000.0
    out["duration_h"] = sessions["duration_s"] / 3600.0
    out["charging_h"] = sessions["charging_s"] / 3600.0
    out["idle_h"] = sessions["idle_s"] / 3600.0
    charging = sessions["charging_s"].where(sessions["charging_s"] > 0)
    out["mean_power_kw"] = sessions["energy_wh"] / 1000.0 / (charging / 3600.0)
    out["peak_power_kw"] = sessions["max_power_w"] / 1000.0
    out["idle_share"] = sessions["idle_s"] / sessions["duration_s"].where(
        sessions["duration_s"] > 0
    )
    return out


def fleet_summary(sessions: pd.DataFrame) -> dict[str, float]:
    """Headline numbers for a report: counts, energy and time totals, means."""
    kpis = session_kpis(sessions)
    return {
        "sessions": len(kpis),
        "chargers": int(kpis["charge_point_id"].nunique()),
        "energy_kwh": float(kpis["energy_kwh"].sum()),
        "mean_energy_kwh": float(kpis["energy_kwh"].mean()) if len(kpis) else 0.0,
        "mean_duration_h": float(kpis["duration_h"].mean()) if len(kpis) else 0.0,
        "charging_h": float(kpis["charging_h"].sum()),
        "idle_h": float(kpis["idle_h"].sum()),
        "mean_power_kw": float(kpis["mean_power_kw"].mean()) if len(kpis) else 0.0,
        "peak_power_kw": float(kpis["peak_power_kw"].max()) if len(kpis) else 0.0,
    }


def sessions_per_port_per_day(sessions: pd.DataFrame) -> pd.DataFrame:
    """Sessions and kWh per port (EVSE) per UTC day (by session start)."""
    frame = sessions.assign(day=pd.to_datetime(sessions["start_time"], utc=True).dt.floor("D"))
    return (
        frame.groupby(["charge_point_id", "evse_id", "day"], sort=True)
        .agg(
            sessions=("transaction_id", "count"), energy_kwh=("energy_wh", lambda s: s.sum() / 1000)
        )
        .reset_index()
    )


def utilisation(
    sessions: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp, ports: int | None = None
) -> dict[str, float]:
    """Share of port-time spent charging and occupied over ``[start, end)``.

    ``charging_pct`` = charging time / port-time; ``occupancy_pct`` = plugged-in
    time / port-time. Sessions are clipped to the period (charging and idle
    time are scaled by the clipped share of each session). ``ports`` defaults
    to the number of distinct (charger, EVSE) pairs seen.
    """
    n_ports = ports or int(sessions[["charge_point_id", "evse_id"]].drop_duplicates().shape[0])
    period_s = (end - start).total_seconds()
    if n_ports == 0 or period_s <= 0:
        return {"ports": float(n_ports), "charging_pct": 0.0, "occupancy_pct": 0.0}
    s0 = pd.to_datetime(sessions["start_time"], utc=True)
    s1 = pd.to_datetime(sessions["stop_time"], utc=True)
    clipped = (s1.clip(upper=end) - s0.clip(lower=start)).dt.total_seconds().clip(lower=0)
    full = (s1 - s0).dt.total_seconds()
    share = (clipped / full.where(full > 0)).fillna(0.0)
    charging = float((sessions["charging_s"] * share).sum())
    occupied = float(clipped.sum())
    return {
        "ports": float(n_ports),
        "charging_pct": 100.0 * charging / (n_ports * period_s),
        "occupancy_pct": 100.0 * occupied / (n_ports * period_s),
    }


def start_hour_heatmap(sessions: pd.DataFrame, tz: str = "UTC") -> pd.DataFrame:
    """Session starts by weekday (rows, Monday first) and local hour (columns)."""
    local = pd.to_datetime(sessions["start_time"], utc=True).dt.tz_convert(tz)
    table = pd.crosstab(local.dt.day_of_week, local.dt.hour)
    return table.reindex(index=range(7), columns=range(24), fill_value=0)


def port_utilisation(
    sessions: pd.DataFrame, ports: pd.DataFrame
) -> tuple[dict[str, float], pd.DataFrame]:
    """Utilisation over every port, each over its own period.

    Args:
        sessions: the sessions table, 1.5/1.6 rows already moved to their port
            (:func:`ocppkit.toolkit.analysis.inventory.map_legacy_connectors`).
        ports: one row per port with ``charge_point_id``, ``evse_id``,
            ``start`` and ``end`` (:class:`ocppkit.toolkit.analysis.scope.Scope`).

    Returns:
        ``(fleet figures, per-port table)``. Port-time is the sum of the
        ports' periods, so a port that never charged counts with 0 %.
        ``charging_pct`` = charging time / port-time, ``occupancy_pct`` =
        plugged-in time / port-time. Sessions on a port the table does not
        list are counted in ``sessions_outside_ports``, not in the figures.
    """
    keyed = sessions.assign(
        _s0=pd.to_datetime(sessions["start_time"], utc=True),
        _s1=pd.to_datetime(sessions["stop_time"], utc=True),
    )
    groups = dict(tuple(keyed.groupby(["charge_point_id", "evse_id"], sort=False)))
    rows, used = [], 0
    for port in ports.itertuples(index=False):
        key = (port.charge_point_id, port.evse_id)
        minutes = (port.end - port.start).total_seconds() / 60
        g = groups.get(key)
        charging = occupied = 0.0
        count = 0
        if g is not None and minutes > 0:
            used += len(g)
            s0, s1 = g["_s0"], g["_s1"].fillna(port.end)
            clipped = (s1.clip(upper=port.end) - s0.clip(lower=port.start)).dt.total_seconds()
            clipped = clipped.clip(lower=0)
            full = (s1 - s0).dt.total_seconds()
            share = (clipped / full.where(full > 0)).fillna(0.0)
            charging = float((g["charging_s"].fillna(0.0) * share).sum()) / 60
            occupied = float(clipped.sum()) / 60
            count = int((clipped > 0).sum())
        rows.append(
            (port.charge_point_id, port.evse_id, minutes, count, charging, occupied,
             100.0 * charging / minutes if minutes else None,
             100.0 * occupied / minutes if minutes else None)
        )  # fmt: skip
    table = pd.DataFrame(
        rows,
        columns=[
            "charge_point_id", "evse_id", "port_min", "sessions", "charging_min",
            "occupied_min", "charging_pct", "occupancy_pct",
        ],
    )  # fmt: skip
    return utilisation_of(table, len(sessions) - used), table


def utilisation_of(table: pd.DataFrame, outside: int) -> dict[str, float]:
    """The fleet figures of :func:`port_utilisation` from its per-port table.

    ``outside``: sessions on ports the table does not list. Tables of disjoint
    sets of chargers may be concatenated first.
    """
    total = float(table["port_min"].sum())
    return {
        "ports": float(len(table)),
        "port_hours": total / 60,
        "charging_pct": 100.0 * float(table["charging_min"].sum()) / total if total else 0.0,
        "occupancy_pct": 100.0 * float(table["occupied_min"].sum()) / total if total else 0.0,
        "sessions_outside_ports": float(outside),
    }
