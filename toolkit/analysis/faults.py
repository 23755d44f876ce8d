"""Fault KPIs: what broke, how often, for how long, and how often chargers reboot.

Inputs are the ``faults`` table (one row per fault interval, any version:
1.6 errorCode / vendorErrorCode, 2.0.1 NotifyEvent problems), the per-port
availability intervals (:func:`ocppkit.toolkit.analysis.availability.status_intervals`)
and the ``frames`` table (for BootNotifications).

Definitions:
- a *fault* is one interval in the ``faults`` table (reports of the same
  ongoing fault are merged by ingestion);
- MTTR (mean time to repair) = mean duration of the faults that cleared;
- MTBF (mean time between faults) = a port's observed working time divided
  by its number of faults (the usual operational definition; a port with no
  fault has no MTBF, not an infinite one).
"""

from __future__ import annotations

import json

import pandas as pd

from ocppkit.toolkit.analysis.availability import INOPERATIVE, OUT_OF_ORDER, WORKING


def faults_by_code(faults: pd.DataFrame) -> pd.DataFrame:
    """Pareto of faults: count and hours per error code (vendor code kept beside it)."""
    f = faults.assign(
        code=faults["error_code"].fillna("unknown"),
        vendor=faults["vendor_error_code"].fillna(""),
        hours=faults["duration_s"] / 3600.0,
    )
    table = (
        f.groupby(["code", "vendor"], sort=False)
        .agg(
            faults=("charge_point_id", "size"),
            chargers=("charge_point_id", "nunique"),
            hours=("hours", "sum"),
        )
        .reset_index()
        .sort_values(["faults", "hours"], ascending=False, kind="stable")
    )
    table["share_pct"] = 100.0 * table["faults"] / max(1, int(table["faults"].sum()))
    return table.reset_index(drop=True)


def faults_per_charger(faults: pd.DataFrame) -> pd.DataFrame:
    """Fault count per charger and error code (a charger x code table)."""
    return pd.crosstab(faults["charge_point_id"], faults["error_code"].fillna("unknown"))


def time_in_states(intervals: pd.DataFrame) -> pd.DataFrame:
    """Hours per port in each availability state (working, inoperative, out_of_order, unknown)."""
    hours = (intervals["end"] - intervals["start"]).dt.total_seconds() / 3600.0
    table = (
        intervals.assign(hours=hours)
        .pivot_table(
            index=["charge_point_id", "evse_id"],
            columns="state",
            values="hours",
            aggfunc="sum",
            fill_value=0.0,
        )
        .reset_index()
    )
    table.columns.name = None
    return table


def reliability(faults: pd.DataFrame, intervals: pd.DataFrame) -> pd.DataFrame:
    """MTBF and MTTR per port (hours), from faults and availability intervals."""
    states = time_in_states(intervals)
    for state in (WORKING, INOPERATIVE, OUT_OF_ORDER):
        if state not in states:
            states[state] = 0.0
    port_faults = faults[faults["evse_id"].fillna(0) > 0]
    station_faults = faults[faults["evse_id"].fillna(0) == 0]
    counts = port_faults.groupby(["charge_point_id", "evse_id"]).size().rename("faults")
    cleared = port_faults.dropna(subset=["end_time"])
    mttr = (cleared.groupby(["charge_point_id", "evse_id"])["duration_s"].mean() / 3600.0).rename(
        "mttr_h"
    )
    out = states.merge(counts.reset_index(), on=["charge_point_id", "evse_id"], how="left")
    out = out.merge(mttr.reset_index(), on=["charge_point_id", "evse_id"], how="left")
    # A station-wide fault (evse 0) counts against every port of that station.
    station_counts = station_faults.groupby("charge_point_id").size()
    out["faults"] = out["faults"].fillna(0) + out["charge_point_id"].map(station_counts).fillna(0)
    out["faults"] = out["faults"].astype(int)
    out["mtbf_h"] = out[WORKING] / out["faults"].where(out["faults"] > 0)
    return out


def reboots(frames: pd.DataFrame) -> pd.DataFrame:
    """BootNotifications per charger and boot reason (2.0.1 reason; 1.6 has none)."""
    boots = frames[(frames["action"] == "BootNotification") & (frames["message_type"] == 2)]
    reasons = boots["payload"].map(lambda text: json.loads(text).get("reason", "unreported"))
    return (
        boots.assign(reason=reasons)
        .groupby(["charge_point_id", "reason"])
        .size()
        .rename("boots")
        .reset_index()
    )


def callerror_rates(frames: pd.DataFrame) -> pd.DataFrame:
    """Per action and direction of the call: calls, CALLERRORs and their share."""
    answers = frames[frames["message_type"].isin([3, 4]) & frames["matched_action"].notna()]
    table = (
        answers.assign(error=answers["message_type"] == 4)
        .groupby(["matched_action"])
        .agg(answered=("error", "size"), callerrors=("error", "sum"))
        .reset_index()
        .rename(columns={"matched_action": "action"})
    )
    table["error_pct"] = 100.0 * table["callerrors"] / table["answered"]
    return table.sort_values("callerrors", ascending=False, kind="stable").reset_index(drop=True)
