"""Matplotlib figures shared by the notebooks and `ocppkit report`.

Every figure has a title, labelled axes with units, and says when there is
nothing to show rather than drawing an empty frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
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


def histogram(values: pd.Series | np.ndarray, bins: int = 20) -> tuple[np.ndarray, np.ndarray]:
    """``np.histogram`` of the finite values: ``(counts, edges)``; no value: empty arrays."""
    data = np.asarray(values, dtype=float)
    data = data[np.isfinite(data)]
    if data.size == 0:
        return np.zeros(0), np.zeros(0)
    counts, edges = np.histogram(data, bins=bins)
    return counts.astype(float), edges


def session_histograms(kpis: pd.DataFrame) -> Figure:
    """Energy (kWh) and plug-in duration (h) per session."""
    return session_histograms_of(histogram(kpis["energy_kwh"]), histogram(kpis["duration_h"]))


def session_histograms_of(
    energy: tuple[np.ndarray, np.ndarray], duration: tuple[np.ndarray, np.ndarray]
) -> Figure:
    """:func:`session_histograms` from counted bins (:func:`histogram`): any fleet size."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6), layout="constrained")
    for ax, (counts, edges), colour in ((left, energy, "#1565c0"), (right, duration, "#6a1b9a")):
        if counts.size == 0:
            _empty(ax, "sessions")
        else:
            ax.stairs(counts, edges, fill=True, color=colour)
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


Curve = tuple[str, pd.Series, pd.Series]  # label, minutes since start, kW


def curve_data(meter_values: pd.DataFrame, sessions: pd.DataFrame, limit: int = 12) -> list[Curve]:
    """The first ``limit`` sessions' power samples (by charger and transaction)."""
    power = meter_values[
        (meter_values["measurand"] == "Power.Active.Import") & meter_values["phase"].isna()
    ].dropna(subset=["transaction_id", "value"])
    starts = sessions.set_index(["charge_point_id", "transaction_id"])["start_time"]
    out: list[Curve] = []
    for key, group in power.groupby(["charge_point_id", "transaction_id"], sort=True):
        if key not in starts.index or len(out) >= limit:
            continue
        minutes = (group["timestamp"] - starts.loc[key]).dt.total_seconds() / 60
        out.append((f"{key[0]} tx {key[1]}", minutes, group["value"] / 1000))
    return out


def power_curves(meter_values: pd.DataFrame, sessions: pd.DataFrame, limit: int = 12) -> Figure:
    """Power (kW) against minutes since the session started, one line per session."""
    return power_curves_of(curve_data(meter_values, sessions, limit))


def power_curves_of(curves: list[Curve]) -> Figure:
    """:func:`power_curves` from :func:`curve_data` (at most a dozen lines)."""
    fig, ax = plt.subplots(figsize=(10, 4), layout="constrained")
    for label, minutes, kw in curves:
        ax.plot(minutes, kw, lw=1.2, label=label)
    drawn = len(curves)
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


REGISTER_POINTS = 500  # per charger line: enough for the eye, bounded for a year of samples


@dataclass
class RegisterLine:
    """One charger's energy register, thinned, with its anomalous sessions' samples."""

    charge_point_id: str
    times: pd.Series
    kwh: pd.Series
    bad_times: pd.Series
    bad_kwh: pd.Series
    flagged_sessions: int


def register_lines(meter_values: pd.DataFrame, anomalies: pd.DataFrame) -> list[RegisterLine]:
    """Per charger, its register samples (at most :data:`REGISTER_POINTS`) and the flagged ones."""
    reg = meter_values[meter_values["measurand"] == "Energy.Active.Import.Register"].dropna(
        subset=["value"]
    )
    flagged = anomalies[anomalies["any_anomaly"]]
    bad = set(zip(flagged["charge_point_id"], flagged["transaction_id"], strict=True))
    per_charger = flagged.groupby("charge_point_id").size()
    out = []
    for cp, group in reg.sort_values("timestamp").groupby("charge_point_id", sort=True):
        hit = group[[(cp, tx) in bad for tx in group["transaction_id"]]]
        step = max(1, -(-len(group) // REGISTER_POINTS))
        thin = group.iloc[::step]
        out.append(
            RegisterLine(str(cp), thin["timestamp"], thin["value"] / 1000, hit["timestamp"],
                         hit["value"] / 1000, int(per_charger.get(cp, 0)))
        )  # fmt: skip
    return out


def energy_register(meter_values: pd.DataFrame, anomalies: pd.DataFrame) -> Figure:
    """The energy register over time per charger, anomalous sessions marked."""
    return energy_register_of(register_lines(meter_values, anomalies))


def energy_register_of(lines: list[RegisterLine], limit: int = 12) -> Figure:
    """:func:`energy_register` from :func:`register_lines`.

    More than ``limit`` chargers: the ``limit`` with the most flagged sessions
    (then by name), and the title says how many there are.
    """
    fig, ax = plt.subplots(figsize=(10, 4), layout="constrained")
    if not lines:
        _empty(ax, "energy register samples")
    shown = sorted(lines, key=lambda r: (-r.flagged_sessions, r.charge_point_id))[:limit]
    shown.sort(key=lambda r: r.charge_point_id)
    for line in shown:
        ax.plot(line.times, line.kwh, lw=1, label=line.charge_point_id)
        if len(line.bad_times):
            ax.scatter(line.bad_times, line.bad_kwh, marker="x", color="red", zorder=3)
    title = "Energy register per charger (x: session with an anomaly)"
    if len(lines) > limit:
        title = (
            f"Energy register of the {limit} chargers with the most anomalous sessions "
            f"(of {len(lines)}; x: session with an anomaly)"
        )
    ax.set(title=title, xlabel="time (UTC)", ylabel="register (kWh)")
    if 0 < len(shown) <= 12:
        ax.legend(fontsize="x-small", ncols=3)
    fig.autofmt_xdate()
    return fig


def status_timeline(intervals: pd.DataFrame, limit: int = 20) -> Figure:
    """A Gantt chart of port states over the period (the first ``limit`` ports)."""
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
    _state_legend(ax)
    fig.autofmt_xdate()
    return fig


def _state_legend(ax: Axes) -> None:
    handles = [Rectangle((0, 0), 1, 1, color=c) for c in STATE_COLOURS.values()]
    ax.legend(
        handles,
        [s.replace("_", " ") for s in STATE_COLOURS],
        fontsize="x-small",
        loc="upper left",
        bbox_to_anchor=(1.0, 1.0),
    )


def state_shares(state_days: pd.DataFrame, ports: int) -> Figure:
    """The fleet's port time per UTC day by state, stacked (any number of ports).

    Args:
        state_days: ``day``, ``state``, ``minutes`` summed over all ports.
        ports: how many ports that is (for the title).
    """
    fig, ax = plt.subplots(figsize=(10, 3.6), layout="constrained")
    if state_days.empty:
        _empty(ax, "status reports")
    else:
        table = state_days.pivot_table(
            index="day", columns="state", values="minutes", aggfunc="sum", fill_value=0.0
        ).reindex(columns=list(STATE_COLOURS), fill_value=0.0)
        shares = 100.0 * table.div(table.sum(axis=1), axis=0)
        bottom = np.zeros(len(shares))
        for state, colour in STATE_COLOURS.items():
            ax.bar(
                shares.index,
                shares[state].to_numpy(),
                bottom=bottom,
                width=0.95,
                align="edge",
                color=colour,
            )  # fmt: skip  (each bar covers its UTC day)
            bottom += shares[state].to_numpy()
        ax.set_ylim(0, 100)
        fig.autofmt_xdate()
    ax.set(
        title=f"Port time by state per day, all {ports} ports",
        xlabel="day (UTC)",
        ylabel="share of port time (%)",
    )
    _state_legend(ax)
    return fig


def fault_pareto(by_code: pd.DataFrame, limit: int = 15) -> Figure:
    """Fault count per error code, most frequent first (the first ``limit``, then "other")."""
    fig, ax = plt.subplots(figsize=(10, 3.6), layout="constrained")
    if by_code.empty:
        _empty(ax, "faults")
    else:
        labels = [
            f"{c} {v}".strip() for c, v in zip(by_code["code"], by_code["vendor"], strict=True)
        ]
        counts = list(by_code["faults"])
        if len(labels) > limit:
            labels = [*labels[: limit - 1], f"other ({len(labels) - limit + 1} codes)"]
            counts = [*counts[: limit - 1], sum(counts[limit - 1 :])]
        ax.bar(labels, counts, color="#c62828")
        ax.tick_params(axis="x", labelrotation=30)
    ax.set(title="Faults by error code", xlabel="error code (vendor code)", ylabel="faults")
    return fig


def uptime_bars(nevi: pd.DataFrame, limit: int = 40) -> Figure:
    """Uptime per port against the NEVI 97 % and UK 99 % lines.

    More than ``limit`` ports: the distribution of uptime over all ports and
    the ``limit // 2`` lowest ports, instead of one bar per port.
    """
    if len(nevi) > limit:
        return _uptime_distribution(nevi, limit // 2)
    fig, ax = plt.subplots(figsize=(10, 3.6), layout="constrained")
    if nevi.empty:
        _empty(ax, "ports")
    else:
        _uptime_axes(ax, nevi)
    ax.set(
        title="Port uptime over the period (23 CFR 680.116(b) formula)",
        xlabel="charger/EVSE",
        ylabel="uptime (%)",
    )
    return fig


def _uptime_axes(ax: Axes, nevi: pd.DataFrame) -> None:
    labels = [f"{cp}/{e}" for cp, e in zip(nevi["charge_point_id"], nevi["evse_id"], strict=True)]
    colours = ["#2e7d32" if ok else "#c62828" for ok in nevi["meets_97"]]
    ax.bar(labels, nevi["uptime_pct"], color=colours)
    ax.axhline(NEVI_TARGET_PCT, color="black", ls="--", lw=1, label="NEVI 97 %")
    ax.axhline(UK_TARGET_PCT, color="grey", ls=":", lw=1, label="UK rapid network 99 %")
    low = max(0.0, min(90.0, float(nevi["uptime_pct"].min()) - 2))
    ax.set_ylim(low, 100.5)
    ax.legend(fontsize="x-small", loc="lower right")
    ax.tick_params(axis="x", labelrotation=45)


def _uptime_distribution(nevi: pd.DataFrame, worst: int) -> Figure:
    fig, (left, right) = plt.subplots(
        1, 2, figsize=(12, 4), layout="constrained", width_ratios=(1, 1.4)
    )
    uptime = nevi["uptime_pct"].dropna()
    meets = int(nevi["meets_97"].sum())
    left.hist(uptime.clip(lower=80), bins=40, range=(80, 100), color="#1565c0")
    left.axvline(NEVI_TARGET_PCT, color="black", ls="--", lw=1, label="NEVI 97 %")
    left.set(
        title=f"Uptime of all {len(nevi)} ports ({meets} meet 97 %)",
        xlabel="uptime (%, below 80 counted at 80)",
        ylabel="ports",
    )
    left.legend(fontsize="x-small", loc="upper left")
    lowest = nevi.sort_values(["uptime_pct", "charge_point_id", "evse_id"]).head(worst)
    _uptime_axes(right, lowest)
    right.set(title=f"The {len(lowest)} lowest ports", xlabel="charger/EVSE", ylabel="uptime (%)")
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
