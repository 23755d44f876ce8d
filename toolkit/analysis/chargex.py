"""US ChargeX customer-focused reliability KPIs, where the logs carry what they need.

ChargeX (the US national consortium's "Customer-Focused KPIs") defines
reliability from the driver's side. From OCPP logs ocppkit computes:

- **Charge attempts.** An attempt starts when a driver plugs in (1.6/1.5:
  the connector turns ``Preparing`` (1.5 ``Occupied``) from another status;
  2.0.1: a ``TransactionEvent`` with trigger ``CablePluggedIn`` or charging
  state ``EVConnected``) or when an authorisation or remote start is accepted
  (``Authorize``, ``RemoteStartTransaction``, ``RequestStartTransaction``),
  whichever comes first: an authorisation within :data:`START_WINDOW` of a
  plug-in on the same charger belongs to that plug-in's attempt, and the
  other way round. A plug-in that faults before anyone authorises is an
  attempt (it is exactly what a driver experiences as "the charger didn't
  work").
- **Charge start success**: the share of attempts that reached charging:
  a ``Charging`` status (1.6) or charging state (2.0.1) on that port, or a
  transaction start with charging time, before the port's next attempt and
  within :data:`CHARGE_WINDOW` of the attempt.
- **Visits**: one driver's attempts at one charger: attempts follow each
  other in one visit while each starts within :data:`VISIT_WINDOW` of the
  previous one, that one failed, and the id tokens (where both are known)
  are the same. A visit is *first try* (its first attempt charged),
  *retried* (a later one did) or *failed* (none did).
- **Charge end success**: the share of sessions that ended for a reason the
  driver or the car chose (Local, EVDisconnected, Remote, StoppedByEV,
  SOC/energy/time limits, DeAuthorized) rather than a fault (EmergencyStop,
  PowerLoss, GroundFault, OvercurrentFault, PowerQuality, Reboot, ...).
- **Session success**: start success x end success.
- **Charge start time**: seconds from the attempt's start to charging
  (median and 90th percentile).

One clock for all of it: the log's own time of each frame (when it was
received), since an authorisation has no other. Status rows are placed at
the time of the frame that carried them; the chargers' clocks (payload
timestamps) are used only where a table has no frame to point to.

What logs cannot show (a driver who walked away without plugging in,
screen or payment terminal faults) is out of scope, and said so in the
result.
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
VISIT_WINDOW = pd.Timedelta(minutes=30)  # kwwhat's visit window (field findings §5)
# How long after an attempt's start charging may begin and still count for it (a
# driver finding the cable, the car's handshake, a slow authorisation; a long log
# latency): longer and the attempt failed.
CHARGE_WINDOW = pd.Timedelta(minutes=15)
_START_ACTIONS = ("Authorize", "RemoteStartTransaction", "RequestStartTransaction")
_PLUG_IN_WIRE = {"1.6": "Preparing", "1.5": "Occupied"}


def _accepted(payload: str, action: str) -> bool:
    body = json.loads(payload)
    if action == "Authorize":
        info = body.get("idTagInfo") or body.get("idTokenInfo") or {}
        return bool(info.get("status") == "Accepted")
    return bool(body.get("status") == "Accepted")


def _token(payload: str) -> str | None:
    body = json.loads(payload)
    tag = body.get("idTag")
    if tag is None:
        token = body.get("idToken")
        tag = token.get("idToken") if isinstance(token, dict) else None
    return str(tag) if tag else None


def start_attempts(frames: pd.DataFrame) -> pd.DataFrame:
    """Accepted authorisations and remote starts: (charge_point_id, timestamp, action, id_token)."""
    answers = frames[(frames["message_type"] == 3) & frames["matched_action"].isin(_START_ACTIONS)]
    ok = [
        _accepted(p, a) for p, a in zip(answers["payload"], answers["matched_action"], strict=True)
    ]
    calls = frames[(frames["message_type"] == 2) & frames["action"].isin(_START_ACTIONS)]
    if "message_id" not in frames:
        frames = frames.assign(message_id=None)
        answers = answers.assign(message_id=None)
        calls = calls.iloc[:0].assign(message_id=None)
    tokens = {
        (cp, mid): _token(p)
        for cp, mid, p in zip(
            calls["charge_point_id"], calls["message_id"], calls["payload"], strict=True
        )
    }
    out = answers.loc[ok, ["charge_point_id", "timestamp", "matched_action", "message_id"]]
    out = out.rename(columns={"matched_action": "action"})
    out["id_token"] = [
        tokens.get(k) for k in zip(out["charge_point_id"], out["message_id"], strict=True)
    ]
    return out.drop(columns="message_id").reset_index(drop=True)


def on_frame_clock(table: pd.DataFrame, frames: pd.DataFrame) -> pd.DataFrame:
    """``table`` with ``timestamp`` replaced by the time of the frame each row came from.

    Rows are matched by ``source_file`` and ``line``; a row without its frame
    (or a table without those columns) keeps its own time.
    """
    keys = ["source_file", "line"]
    if table.empty or not set(keys) <= set(table.columns) or not set(keys) <= set(frames.columns):
        return table
    when = frames.dropna(subset=["timestamp"]).drop_duplicates(keys).set_index(keys)["timestamp"]
    index = pd.MultiIndex.from_arrays([table["source_file"].astype(str), table["line"]])
    found = when.reindex(index.set_levels(index.levels[0].astype(str), level=0))
    out = table.copy()
    out["timestamp"] = found.to_numpy()
    out["timestamp"] = out["timestamp"].fillna(table["timestamp"])
    return out


def plug_ins(status_events: pd.DataFrame, frames: pd.DataFrame) -> pd.DataFrame:
    """Plug-in events: (charge_point_id, evse_id, timestamp), on the frames' clock."""
    rows: list[tuple[str, int, pd.Timestamp]] = []
    ev = on_frame_clock(status_events.dropna(subset=["status_wire"]), frames)
    ev = ev.sort_values("timestamp", kind="stable")
    ev = ev[ev["ocpp_version"].isin(tuple(_PLUG_IN_WIRE)) & (ev["evse_id"] > 0)]
    for (cp, evse), g in ev.groupby(["charge_point_id", "evse_id"], sort=True):
        wire = _PLUG_IN_WIRE[str(g["ocpp_version"].iloc[0])]
        previous = None
        for t, status in zip(g["timestamp"], g["status_wire"], strict=True):
            if status == wire and previous != wire:
                rows.append((str(cp), int(evse), t))
            previous = status
    events = frames[(frames["message_type"] == 2) & (frames["action"] == "TransactionEvent")]
    seen: set[tuple[str, str]] = set()
    for cp, payload, ts in zip(
        events["charge_point_id"], events["payload"], events["timestamp"], strict=True
    ):
        body = json.loads(payload)
        info = body.get("transactionInfo") or {}
        tx = str(info.get("transactionId"))
        plugged = (
            body.get("triggerReason") == "CablePluggedIn"
            or info.get("chargingState") == "EVConnected"
        )
        if plugged and (str(cp), tx) not in seen:
            seen.add((str(cp), tx))
            evse = (body.get("evse") or {}).get("id")
            stamp = ts if not pd.isna(ts) else pd.Timestamp(body["timestamp"])
            rows.append((str(cp), int(evse) if evse else 0, stamp))
    return pd.DataFrame(rows, columns=["charge_point_id", "evse_id", "timestamp"])


_COLUMNS = ["charge_point_id", "evse_id", "timestamp"]


def _charging_signs(
    status_events: pd.DataFrame, sessions: pd.DataFrame, frames: pd.DataFrame
) -> pd.DataFrame:
    """When each port started charging: (charge_point_id, evse_id, timestamp).

    A reported ``Charging`` is when the energy began to flow. On ports that
    never report one (1.5 has no such status) a transaction start stands in:
    its ``StartTransaction`` frame, else the session's start time.
    """
    status_events = on_frame_clock(status_events, frames)
    charging = status_events[
        (status_events["status_wire"] == "Charging")
        | (status_events["charging_state"] == "Charging")
    ][_COLUMNS] if not status_events.empty else pd.DataFrame(columns=_COLUMNS)  # fmt: skip
    reporting = set(zip(charging["charge_point_id"], charging["evse_id"], strict=True))
    calls = frames[(frames["message_type"] == 2) & (frames["action"] == "StartTransaction")]
    starts = pd.DataFrame(
        [(cp, json.loads(p).get("connectorId"), t)
         for cp, p, t in zip(calls["charge_point_id"], calls["payload"], calls["timestamp"],
                             strict=True)],
        columns=_COLUMNS,
    )  # fmt: skip
    started = sessions.dropna(subset=["start_time"])
    started = started[started["charging_s"].isna() | (started["charging_s"] > 0)]
    from_sessions = started[["charge_point_id", "evse_id", "start_time"]].rename(
        columns={"start_time": "timestamp"}
    )
    parts = [charging]
    for stand_in in (starts, from_sessions):
        keep = [
            k not in reporting
            for k in zip(stand_in["charge_point_id"], stand_in["evse_id"], strict=True)
        ]
        stand_in = stand_in.loc[pd.Series(keep, index=stand_in.index, dtype=bool)]
        parts.append(stand_in)
        reporting |= set(zip(stand_in["charge_point_id"], stand_in["evse_id"], strict=True))
    present = [p for p in parts if len(p)]
    out = pd.concat(present, ignore_index=True) if present else pd.DataFrame(columns=_COLUMNS)
    out["timestamp"] = pd.to_datetime(out["timestamp"], utc=True)
    # A 2.0.1 TransactionEvent names its EVSE only in its first event: 0 = any port.
    out["evse_id"] = pd.to_numeric(out["evse_id"]).fillna(0).astype(int)
    return out.sort_values("timestamp", kind="stable").reset_index(drop=True)


def attempts(
    frames: pd.DataFrame,
    sessions: pd.DataFrame,
    status_events: pd.DataFrame | None = None,
    window: pd.Timedelta = START_WINDOW,
    charge_window: pd.Timedelta = CHARGE_WINDOW,
) -> pd.DataFrame:
    """Every charge attempt with its outcome (see module doc).

    Returns:
        columns ``charge_point_id``, ``evse_id`` (0 when only an
        authorisation names the charger), ``start``, ``via`` (``plug-in`` or
        the authorising action), ``id_token``, ``charged`` (bool),
        ``charging_at`` and ``visit`` (a number per charger).
    """
    status = status_events if status_events is not None else pd.DataFrame(
        columns=["charge_point_id", "evse_id", "timestamp", "status_wire", "charging_state",
                 "ocpp_version"]
    )  # fmt: skip
    plugs = plug_ins(status, frames)
    auths = start_attempts(frames)
    events = [(cp, evse, pd.Timestamp(t), "plug-in", None) for cp, evse, t in plugs.itertuples(
        index=False)] + [
        (cp, 0, pd.Timestamp(t), action, tok) for cp, t, action, tok in auths.itertuples(
            index=False)
    ]  # fmt: skip
    events.sort(key=lambda e: (e[0], e[2]))
    # Merge a plug-in and an authorisation close together into one attempt.
    merged: list[dict[str, object]] = []
    for cp, evse, t, via, token in events:
        last = merged[-1] if merged else None
        if (
            last is not None
            and last["charge_point_id"] == cp
            and t - last["start"] <= window
            and (
                (via == "plug-in" and not last["has_plug"] and last["evse_id"] in (0, evse))
                or (via != "plug-in" and not last["has_auth"])
            )
        ):
            if via == "plug-in":
                last["has_plug"], last["evse_id"] = True, evse
            else:
                last["has_auth"], last["id_token"] = True, token
            continue
        merged.append(
            {"charge_point_id": cp, "evse_id": evse, "start": t, "via": via, "id_token": token,
             "has_plug": via == "plug-in", "has_auth": via != "plug-in"}
        )  # fmt: skip
    signs = _charging_signs(status, sessions, frames)
    by_cp = dict(tuple(signs.groupby("charge_point_id"))) if len(signs) else {}
    rows = []
    for i, a in enumerate(merged):
        cp, evse, t = a["charge_point_id"], a["evse_id"], a["start"]
        later = [
            b["start"] for b in merged[i + 1 :]
            if b["charge_point_id"] == cp and (evse == 0 or b["evse_id"] in (0, evse))
        ]  # fmt: skip
        limit = min([t + charge_window, *later[:1]])
        found = by_cp.get(cp)
        at = None
        if found is not None:
            hit = found[
                (found["timestamp"] >= t - pd.Timedelta(seconds=1))
                & (found["timestamp"] <= limit)
                & ((found["evse_id"] == evse) | (evse == 0) | (found["evse_id"] == 0))
            ]
            if len(hit):
                at = hit["timestamp"].iloc[0]
        rows.append((cp, evse, t, a["via"], a["id_token"], at is not None, at))
    table = pd.DataFrame(
        rows,
        columns=["charge_point_id", "evse_id", "start", "via", "id_token", "charged",
                 "charging_at"],
    )  # fmt: skip
    table["visit"] = _visits(table)
    return table


def _visits(table: pd.DataFrame) -> list[int]:
    out: list[int] = []
    visit = 0
    previous: tuple[str, pd.Timestamp, bool, str | None] | None = None
    for cp, t, charged, token in zip(
        table["charge_point_id"], table["start"], table["charged"], table["id_token"], strict=True
    ):
        token = token if isinstance(token, str) else None
        same = (
            previous is not None
            and previous[0] == cp
            and not previous[2]
            and t - previous[1] <= VISIT_WINDOW
            and (token is None or previous[3] is None or token == previous[3])
        )
        if not same:
            visit += 1
        out.append(visit)
        previous = (cp, t, bool(charged), token or (previous[3] if same and previous else None))
    return out


def chargex_kpis(
    frames: pd.DataFrame,
    sessions: pd.DataFrame,
    status_events: pd.DataFrame | None = None,
    window: pd.Timedelta = START_WINDOW,
) -> dict[str, float | str | None]:
    """The KPIs above as one dict (counts, percentages and seconds; None when undefined)."""
    table = attempts(frames, sessions, status_events, window)
    return chargex_of(table, *session_ends(sessions))


def session_ends(sessions: pd.DataFrame) -> tuple[int, int]:
    """``(sessions that ended, of which for a driver's or car's reason)``."""
    ended = sessions.dropna(subset=["stop_time"])
    return len(ended), int(ended["stop_reason"].isin(DRIVER_OR_CAR_REASONS).sum())


def chargex_of(table: pd.DataFrame, ended: int, good_ends: int) -> dict[str, float | str | None]:
    """The KPIs from the :func:`attempts` table and the session ends (:func:`session_ends`).

    Attempts of several chargers may be computed apart and concatenated, as
    long as their ``visit`` numbers stay distinct: a visit never spans chargers.
    """
    n = len(table)
    started = int(table["charged"].sum())
    gap = pd.to_datetime(table["charging_at"], utc=True) - pd.to_datetime(table["start"], utc=True)
    delays = gap.dt.total_seconds().clip(lower=0).dropna()
    start_pct = 100.0 * started / n if n else None
    end_pct = 100.0 * (good_ends / ended) if ended else None
    visits = table.groupby("visit")["charged"].agg(["first", "any", "size"]) if n else None
    first_try = int(visits["first"].sum()) if visits is not None else 0
    retried = int((visits["any"] & ~visits["first"]).sum()) if visits is not None else 0
    failed = int((~visits["any"]).sum()) if visits is not None else 0
    n_visits = len(visits) if visits is not None else 0
    return {
        "start_attempts": float(n),
        "attempts_from_plug_in": float((table["via"] == "plug-in").sum()),
        "attempts_charged": float(started),
        "charge_start_success_pct": start_pct,
        "charge_end_success_pct": end_pct,
        "session_success_pct": (
            start_pct * end_pct / 100.0 if start_pct is not None and end_pct is not None else None
        ),
        "charge_start_time_median_s": float(delays.median()) if len(delays) else None,
        "charge_start_time_p90_s": float(delays.quantile(0.9)) if len(delays) else None,
        "visits": float(n_visits),
        "visits_first_try": float(first_try),
        "visits_retried": float(retried),
        "visits_failed": float(failed),
        "visit_success_pct": 100.0 * (first_try + retried) / n_visits if n_visits else None,
        "scope": "from OCPP logs: attempts start at plug-in or at an accepted authorisation or "
        "remote start; a driver who left without plugging in is not seen",
    }
