"""Matplotlib figures shared by the notebooks and `ocppkit report`.

Every figure has a title, labelled axes with units, and says when there is
nothing to show rather than drawing an empty frame.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from ocppkit.toolkit.analysis.availability import NEVI_TARGET_PCT, UK_TARGET_PCT

STATE_COLOURS = {
    "working": "#2e7d32",
    "inoperative": "#f9a825",
    "out_of_order": "#c62828",
    "unknown": "#9e9e9e",
}
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _empty(ax: Axes, what: str) -> None:
    ax.text(
        0.5, 0.5, f"no {what} in this dataset", ha="center", va="center", transform=ax.transAxes
    )
    ax.set_xticks([])
    ax.set_yticks([])


def session_histograms(kpis: pd.DataFrame) -> Figure:
    """Energy (kWh) and plug-in duration (h) per session."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6), layout="constrained")
    if kpis.empty:
        _empty(left, "sessions")
        _empty(right, "sessions")
    else:
        left.hist(kpis["energy_kwh"].dropna(), bins=20, color="#1565c0")
        right.hist(kpis["duration_h"].dropna(), bins=20, color="#6a1b9a")
    left.set(title="Energy per session", xlabel="energy (kWh)", ylabel="sessions")
    right.set(title="Plug-in duration per session", xlabel="duration (h)", ylabel="sessions")
    return fig


def start_heatmap(heat: pd.DataFrame, tz: str = "UTC") -> Figure:
    """Session starts by weekday and hour of day."""
    fig, ax = plt.subplots(figsize=(10, 3.2), layout="constrained")
    image = ax.imshow(heat.to_numpy(), aspect="auto", cmap="Blues")
    ax.set(
        title=f"Session starts by weekday and hour ({tz})", xlabel="hour of day", ylabel="weekday"
    )
    ax.set_yticks(range(7), WEEKDAYS)
    ax.set_xticks(range(0, 24, 3))
    fig.colorbar(image, ax=ax, label="sessions started")
    return fig


def power_curves(meter_values: pd.DataFrame, sessions: pd.DataFrame, limit: int = 12) -> Figure:
    """Power (kW) against minutes since the session started, one line per session."""
    fig, ax = plt.subplots(figsize=(10, 4), layout="constrained")
    power = meter_values[
        (meter_values["measurand"] == "Power.Active.Import") & meter_values["phase"].isna()
    ].dropna(subset=["transaction_id", "value"])
    starts = sessions.set_index(["charge_point_id", "transaction_id"])["start_time"]
    drawn = 0
    for key, group in power.groupby(["charge_point_id", "transaction_id"], sort=True):
        if key not in starts.index or drawn >= limit:
            continue
        minutes = (group["timestamp"] - starts.loc[key]).dt.total_seconds() / 60
        ax.plot(minutes, group["value"] / 1000, lw=1.2, label=f"{key[0]} tx {key[1]}")
        drawn += 1
    if drawn == 0:
        _empty(ax, "power samples")
    elif drawn <= 12:
        ax.legend(fontsize="x-small", ncols=2)
    ax.set_ylim(bottom=0)
    ax.set(
        title=f"Charging power per session (first {drawn})",
        xlabel="minutes since start",
        ylabel="power (kW)",
    )
    return fig


def energy_register(meter_values: pd.DataFrame, anomalies: pd.DataFrame) -> Figure:
    """The energy register over time per charger, anomalous sessions marked."""
    fig, ax = plt.subplots(figsize=(10, 4), layout="constrained")
    reg = meter_values[meter_values["measurand"] == "Energy.Active.Import.Register"].dropna(
        subset=["value"]
    )
    if reg.empty:
        _empty(ax, "energy register samples")
    bad = set(
        zip(
            anomalies.loc[anomalies["any_anomaly"], "charge_point_id"],
            anomalies.loc[anomalies["any_anomaly"], "transaction_id"],
            strict=True,
        )
    )
    for cp, group in reg.sort_values("timestamp").groupby("charge_point_id", sort=True):
        ax.plot(group["timestamp"], group["value"] / 1000, lw=1, label=str(cp))
        flagged = group[[(cp, tx) in bad for tx in group["transaction_id"]]]
        if not flagged.empty:
            ax.scatter(
                flagged["timestamp"], flagged["value"] / 1000, marker="x", color="red", zorder=3
            )
    ax.set(
        title="Energy register per charger (x: session with an anomaly)",
        xlabel="time (UTC)",
        ylabel="register (kWh)",
    )
    if not reg.empty and reg["charge_point_id"].nunique() <= 12:
        ax.legend(fontsize="x-small", ncols=3)
    fig.autofmt_xdate()
    return fig


def status_timeline(intervals: pd.DataFrame, limit: int = 20) -> Figure:
    """A Gantt chart of port states over the period."""
    ports = intervals[["charge_point_id", "evse_id"]].drop_duplicates().head(limit)
    fig, ax = plt.subplots(figsize=(10, 1.8 + 0.35 * max(1, len(ports))), layout="constrained")
    if ports.empty:
        _empty(ax, "status reports")
    for y, (cp, evse) in enumerate(ports.itertuples(index=False)):
        rows = intervals[(intervals["charge_point_id"] == cp) & (intervals["evse_id"] == evse)]
        for r in rows.itertuples(index=False):
            ax.barh(y, r.end - r.start, left=r.start, color=STATE_COLOURS[r.state], height=0.7)
    ax.set_yticks(
        range(len(ports)), [f"{cp} / {evse}" for cp, evse in ports.itertuples(index=False)]
    )
    ax.set(title="Port states over time", xlabel="time (UTC)", ylabel="charger / EVSE")
    handles = [Rectangle((0, 0), 1, 1, color=c) for c in STATE_COLOURS.values()]
    ax.legend(
        handles,
        [s.replace("_", " ") for s in STATE_COLOURS],
        fontsize="x-small",
        loc="upper left",
        bbox_to_anchor=(1.0, 1.0),
    )
    fig.autofmt_xdate()
    return fig


def fault_pareto(by_code: pd.DataFrame) -> Figure:
    """Fault count per error code, most frequent first."""
    fig, ax = plt.subplots(figsize=(10, 3.6), layout="constrained")
    if by_code.empty:
        _empty(ax, "faults")
    else:
        labels = [
            f"{c} {v}".strip() for c, v in zip(by_code["code"], by_code["vendor"], strict=True)
        ]
        ax.bar(labels, by_code["faults"], color="#c62828")
        ax.tick_params(axis="x", labelrotation=30)
    ax.set(title="Faults by error code", xlabel="error code (vendor code)", ylabel="faults")
    return fig


def uptime_bars(nevi: pd.DataFrame) -> Figure:
    """Uptime per port against the NEVI 97 % and UK 99 % lines."""
    fig, ax = plt.subplots(figsize=(10, 3.6), layout="constrained")
    if nevi.empty:
        _empty(ax, "ports")
    else:
        labels = [
            f"{cp}/{e}" for cp, e in zip(nevi["charge_point_id"], nevi["evse_id"], strict=True)
        ]
        colours = ["#2e7d32" if ok else "#c62828" for ok in nevi["meets_97"]]
        ax.bar(labels, nevi["uptime_pct"], color=colours)
        ax.axhline(NEVI_TARGET_PCT, color="black", ls="--", lw=1, label="NEVI 97 %")
        ax.axhline(UK_TARGET_PCT, color="grey", ls=":", lw=1, label="UK rapid network 99 %")
        low = max(0.0, min(90.0, float(nevi["uptime_pct"].min()) - 2))
        ax.set_ylim(low, 100.5)
        ax.legend(fontsize="x-small", loc="lower right")
        ax.tick_params(axis="x", labelrotation=45)
    ax.set(
        title="Port uptime over the period (23 CFR 680.116(b) formula)",
        xlabel="charger/EVSE",
        ylabel="uptime (%)",
    )
    return fig


def daily_energy_and_revenue(
    daily: pd.DataFrame, costs: pd.DataFrame | None, currency: str
) -> Figure:
    """kWh per day (bars) and revenue per day (line, right axis)."""
    fig, ax = plt.subplots(figsize=(10, 3.6), layout="constrained")
    per_day = daily.groupby("day")["energy_kwh"].sum()
    if per_day.empty:
        _empty(ax, "sessions")
    else:
        ax.bar(per_day.index, per_day.to_numpy(), width=0.8, color="#1565c0", label="energy")
        if costs is not None and not costs.empty:
            revenue = costs.groupby("day")["total"].sum().map(float)
            right = ax.twinx()
            right.plot(revenue.index, revenue.to_numpy(), color="#ef6c00", marker="o")
            right.set_ylabel(f"revenue incl. VAT ({currency})")
        fig.autofmt_xdate()
    ax.set(title="Energy delivered and revenue per day", xlabel="day (UTC)", ylabel="energy (kWh)")
    return fig
