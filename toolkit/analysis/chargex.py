"""US ChargeX customer-focused reliability KPIs, where the logs carry what they need.

ChargeX (the US national consortium's "Customer-Focused KPIs") defines
reliability from the driver's side. From OCPP logs ocppkit computes:

- **Charge start success**: of the authorised attempts to start (an accepted
  Authorize followed on that charger by a transaction within the window, or
  an accepted remote start), the share that did start a transaction.
  Computed from ``frames``: accepted ``Authorize`` / ``RequestStartTransaction``
  / ``RemoteStartTransaction`` answers, then a session starting on the same
  charger within ``window``.
- **Charge end success**: the share of sessions that ended for a reason the
  driver or the car chose (Local, EVDisconnected, Remote, StoppedByEV,
  SOC/energy/time limits, DeAuthorized) rather than a fault (EmergencyStop,
  PowerLoss, GroundFault, OvercurrentFault, PowerQuality, Reboot, ...).
- **Session success**: start success x end success over the same attempts.
- **Charge start time**: seconds from the authorisation to the transaction
  start (median and 90th percentile).

What logs cannot show (a driver who walked away before authorising, screen
or payment terminal faults) is out of scope, and said so in the result.
"""

from __future__ import annotations

import json

import pandas as pd

DRIVER_OR_CAR_REASONS = frozenset(
    {
        "Local",
        "EVDisconnected",
        "Remote",
        "StoppedByEV",
        "SOCLimitReached",
        "EnergyLimitReached",
        "TimeLimitReached",
        "DeAuthorized",
        "LocalOutOfCredit",
        "MasterPass",
    }
)
START_WINDOW = pd.Timedelta(minutes=5)
_START_ACTIONS = ("Authorize", "RequestStartTransaction", "RemoteStartTransaction")


def _accepted(payload: str, action: str) -> bool:
    body = json.loads(payload)
    if action == "Authorize":
        info = body.get("idTagInfo") or body.get("idTokenInfo") or {}
        return bool(info.get("status") == "Accepted")
    return bool(body.get("status") == "Accepted")


def start_attempts(frames: pd.DataFrame) -> pd.DataFrame:
    """Accepted authorisations and remote starts: (charge_point_id, timestamp, action)."""
    answers = frames[(frames["message_type"] == 3) & frames["matched_action"].isin(_START_ACTIONS)]
    ok = [
        _accepted(p, a) for p, a in zip(answers["payload"], answers["matched_action"], strict=True)
    ]
    return answers.loc[ok, ["charge_point_id", "timestamp", "matched_action"]].rename(
        columns={"matched_action": "action"}
    )


def chargex_kpis(
    frames: pd.DataFrame, sessions: pd.DataFrame, window: pd.Timedelta = START_WINDOW
) -> dict[str, float | str]:
    """The KPIs above as one dict (percentages and seconds)."""
    attempts = start_attempts(frames).sort_values("timestamp")
    starts = sessions.dropna(subset=["start_time"]).sort_values("start_time")
    started, delays = 0, []
    used: set[int] = set()
    for cp, group in attempts.groupby("charge_point_id"):
        candidates = starts[starts["charge_point_id"] == cp]
        for t in group["timestamp"]:
            later = candidates[
                (candidates["start_time"] >= t - pd.Timedelta(seconds=1))
                & (candidates["start_time"] <= t + window)
            ]
            later = later[~later.index.isin(used)]
            if not later.empty:
                started += 1
                used.add(int(later.index[0]))
                delays.append(max(0.0, (later["start_time"].iloc[0] - t).total_seconds()))
    ended = sessions.dropna(subset=["stop_time"])
    good_end = ended["stop_reason"].isin(DRIVER_OR_CAR_REASONS)
    start_pct = 100.0 * started / len(attempts) if len(attempts) else float("nan")
    end_pct = 100.0 * float(good_end.mean()) if len(ended) else float("nan")
    delay = pd.Series(delays, dtype=float)
    return {
        "start_attempts": float(len(attempts)),
        "charge_start_success_pct": start_pct,
        "charge_end_success_pct": end_pct,
        "session_success_pct": start_pct * end_pct / 100.0,
        "charge_start_time_median_s": float(delay.median()) if len(delay) else float("nan"),
        "charge_start_time_p90_s": float(delay.quantile(0.9)) if len(delay) else float("nan"),
        "scope": "from OCPP logs: attempts start at an accepted authorisation or remote start",
    }
