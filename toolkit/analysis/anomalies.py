"""Meter anomalies a billing team must see, flagged per session.

Nothing here corrects a value: each check adds a flag (and the evidence) so
a person decides. The checks and why each matters (field reports in
shared research §4.4):

- ``non_monotonic_register``: the energy register went down inside a session
  (meter replaced, firmware bug, samples out of order): energy is unreliable.
- ``missing_start_baseline`` / ``zero_start_baseline``: no meterStart, or
  meterStart 0 while the register already read far more at the first sample:
  stop - start would bill the meter's lifetime total.
- ``missing_stop_value``: no stop time or no meterStop: energy unknown.
- ``implausible_timestamp``: before 2000 (a charger clock reset to 1970) or
  after the end of the data.
- ``clock_skew``: the charger's timestamps disagree with when the frames were
  received by more than a tolerance.
- ``unit_mixup_suspected``: the register's energy and the integral of the
  power samples disagree by a factor near 1000 (kWh written as Wh, or W
  as kW).
- ``energy_exceeds_power_bound``: more energy than the session's peak power
  (or a configured bound) could deliver in its duration.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

REGISTER = "Energy.Active.Import.Register"
POWER = "Power.Active.Import"
EARLIEST_PLAUSIBLE = pd.Timestamp("2000-01-01T00:00:00Z")
FLAGS = (
    "non_monotonic_register",
    "missing_start_baseline",
    "zero_start_baseline",
    "missing_stop_value",
    "implausible_timestamp",
    "clock_skew",
    "unit_mixup_suspected",
    "energy_exceeds_power_bound",
)


def _num(value: float) -> str:
    """A number as evidence: every digit it has (2300369.5, not 2300370)."""
    return format(float(value), ".15g")


def _register_series(meter_values: pd.DataFrame) -> pd.DataFrame:
    mv = meter_values[meter_values["measurand"] == REGISTER]
    return mv[["charge_point_id", "transaction_id", "timestamp", "value"]].sort_values(
        ["charge_point_id", "transaction_id", "timestamp"], kind="stable"
    )


def _power_integral_wh(group: pd.DataFrame) -> float:
    """Trapezoid integral of power samples (W) over time, in Wh."""
    if len(group) < 2:
        return float("nan")
    stamps = pd.to_datetime(group["timestamp"], utc=True)
    t = (stamps - stamps.iloc[0]).dt.total_seconds().to_numpy() / 3600.0
    p = group["value"].to_numpy(dtype=float)
    return float(np.sum((p[1:] + p[:-1]) / 2 * np.diff(t)))


def session_anomalies(
    sessions: pd.DataFrame,
    meter_values: pd.DataFrame,
    *,
    frames_skew_s: pd.Series | None = None,
    data_end: pd.Timestamp | None = None,
    skew_tolerance_s: float = 300.0,
    power_bound_w: float = 350_000.0,
) -> pd.DataFrame:
    """One row per session with a boolean column per flag and the evidence.

    Args:
        sessions: the sessions table.
        meter_values: the meter_values table (values already in Wh / W).
        frames_skew_s: optional, per (charge_point_id, transaction_id) index,
            the largest |payload timestamp - receive time| in seconds.
        data_end: latest plausible timestamp (default: the latest stop time).
        skew_tolerance_s: clock skew above this is flagged.
        power_bound_w: fallback bound when a session has no peak power.
    """
    keys = ["charge_point_id", "transaction_id"]
    sessions = sessions.reset_index(drop=True)
    out = sessions[
        [*keys, "start_time", "stop_time", "meter_start_wh", "meter_stop_wh", "energy_wh"]
    ].copy()
    for flag in FLAGS:
        out[flag] = False
    out["evidence"] = ""
    end = data_end or pd.to_datetime(sessions["stop_time"], utc=True).max()
    registers = dict(tuple(_register_series(meter_values).groupby(keys, sort=False)))
    powers = dict(
        tuple(
            meter_values[meter_values["measurand"] == POWER]
            .sort_values("timestamp")
            .groupby(keys, sort=False)
        )
    )
    notes: list[list[str]] = [[] for _ in range(len(out))]
    for i, row in out.iterrows():
        key = (row["charge_point_id"], row["transaction_id"])
        reg = registers.get(key)
        start, stop = row["start_time"], row["stop_time"]
        if pd.isna(row["meter_start_wh"]):
            out.at[i, "missing_start_baseline"] = True
        if pd.isna(stop) or pd.isna(row["meter_stop_wh"]):
            out.at[i, "missing_stop_value"] = True
        stamps: Iterable[pd.Timestamp] = [t for t in (start, stop) if not pd.isna(t)]
        if reg is not None:
            values = reg["value"].to_numpy(dtype=float)
            drops = np.flatnonzero(np.diff(values) < 0)
            if drops.size:
                out.at[i, "non_monotonic_register"] = True
                j = int(drops[0])
                notes[i].append(f"register fell from {_num(values[j])} to {_num(values[j + 1])} Wh")
            if row["meter_start_wh"] == 0 and values.size and values[0] > 1000:
                out.at[i, "zero_start_baseline"] = True
                notes[i].append(f"meterStart 0 but first register sample {_num(values[0])} Wh")
            stamps = [*stamps, *pd.to_datetime(reg["timestamp"], utc=True)]
        bad = [t for t in stamps if t < EARLIEST_PLAUSIBLE or t > end + pd.Timedelta(days=1)]
        if bad:
            out.at[i, "implausible_timestamp"] = True
            notes[i].append(f"timestamp {min(bad).isoformat()}")
        power = powers.get(key)
        if reg is not None and power is not None and len(reg) >= 2:
            register_wh = float(reg["value"].iloc[-1] - reg["value"].iloc[0])
            integral_wh = _power_integral_wh(power)
            if register_wh > 0 and integral_wh > 0:
                ratio = register_wh / integral_wh
                if 300 <= ratio <= 3000 or 1 / 3000 <= ratio <= 1 / 300:
                    out.at[i, "unit_mixup_suspected"] = True
                    notes[i].append(f"register/power-integral ratio {ratio:.4g}")
        energy = row["energy_wh"]
        if not pd.isna(energy) and not pd.isna(start) and not pd.isna(stop):
            hours = (stop - start).total_seconds() / 3600
            peak = sessions.loc[i, "max_power_w"] if "max_power_w" in sessions else np.nan
            bound = (peak if not pd.isna(peak) and peak > 0 else power_bound_w) * hours
            if energy > bound * 1.05 + 1:
                out.at[i, "energy_exceeds_power_bound"] = True
                notes[i].append(f"{_num(energy)} Wh > {_num(round(bound, 3))} Wh possible")
        if frames_skew_s is not None and key in frames_skew_s.index:
            skew = float(frames_skew_s.loc[key])
            if abs(skew) > skew_tolerance_s:
                out.at[i, "clock_skew"] = True
                notes[i].append(f"clock skew {_num(skew)} s")
    out["evidence"] = ["; ".join(n) for n in notes]
    out["any_anomaly"] = out[list(FLAGS)].any(axis=1)
    return out
