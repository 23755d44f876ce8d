"""Port availability under the rules operators are held to.

A port is an EVSE (``evse_id``; a 1.6 connector is an EVSE): it serves one
vehicle at a time, which is what NEVI calls a charging port.

Input: status events (any OCPP version) turned into intervals,
each classified by :data:`STATE_OF_STATUS` into one of four states:

- ``working``: the port can serve or is serving a driver;
- ``inoperative``: taken out of service (1.6/2.0.1 ``Unavailable``);
- ``out_of_order``: broken (``Faulted``);
- ``unknown``: no data (before the first status, charger offline).

Two rules are implemented, each a pure function of the intervals:

**US NEVI, 23 CFR 680.116(b)**: per charging port, over the period
(a year: 525,600 minutes), ``uptime % = (T_total - (T_outage - T_excluded)) /
T_total x 100`` must exceed 97 %. ``T_outage`` is every minute the port is
not up, and a port is up only when online and available or in use, so
``inoperative``, ``out_of_order`` *and* ``unknown`` (offline) minutes are
outage. ``T_excluded`` are outage minutes caused by (i) electric utility
service interruptions, (ii) a vehicle's fault, (iii) scheduled maintenance,
(iv) vandalism, (v) natural disasters (:data:`NEVI_EXCLUSION_REASONS`), and
minutes outside the port's posted operating hours. Logs cannot know these
causes: the caller supplies them as exclusion windows.

**UK Public Charge Point Regulations 2023 (reg. 7)**: the operator's
network of rapid charge points (>= 50 kW) must be reliable 99 % of the time
over a calendar year, averaged over the network. A charge point is working
when available, charging or reserved; inoperative and out-of-order time
count against it; time with unknown status is ineligible (neither for nor
against), and only opening hours count. Reliability of a point is
``working / (working + not working)``; the network figure is the mean over
its rapid points.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import pandas as pd

WORKING, INOPERATIVE, OUT_OF_ORDER, UNKNOWN = "working", "inoperative", "out_of_order", "unknown"

# Status values of 1.5, 1.6 and 2.0.1 (connectorStatus) -> availability state.
STATE_OF_STATUS: dict[str, str] = {
    "Available": WORKING,
    "Preparing": WORKING,
    "Charging": WORKING,
    "SuspendedEV": WORKING,  # the car paused; the port works
    "SuspendedEVSE": WORKING,  # the charger limits power (smart charging); it works
    "Finishing": WORKING,
    "Reserved": WORKING,
    "Occupied": WORKING,  # 1.5 and 2.0.1
    "Unavailable": INOPERATIVE,
    "Faulted": OUT_OF_ORDER,
    "Offline": UNKNOWN,  # synthetic: connectivity lost
}

NEVI_EXCLUSION_REASONS = frozenset(
    {
        "utility_interruption",
        "vehicle_fault",
        "scheduled_maintenance",
        "vandalism",
        "natural_disaster",
    }
)
NEVI_TARGET_PCT = 97.0
UK_TARGET_PCT = 99.0
UK_RAPID_KW = 50.0


# Synthetic statuses for time without a report (all "unknown"):
NO_REPORT = "NoReport"  # the connector has not reported a status yet in the period
OFFLINE = "Offline"  # the charger was silent for longer than the offline threshold
NO_DATA = "NoData"  # before the charger's first frame or after its last one
for _synthetic in (NO_REPORT, OFFLINE, NO_DATA):
    STATE_OF_STATUS[_synthetic] = UNKNOWN

# How a port's state follows from its connectors' (see README "Ports with several
# connectors"). "any": the port is up while at least one connector is up;
# "all": every connector must be up.
PORT_RULES = ("any", "all")


def status_intervals(
    events: pd.DataFrame,
    start: pd.Timestamp,
    end: pd.Timestamp,
    offline: dict[str, list[tuple[pd.Timestamp, pd.Timestamp]]] | None = None,
    *,
    ports: pd.DataFrame | None = None,
    port_rule: str = "any",
) -> pd.DataFrame:
    """Turn status events into per-port intervals clipped to each port's period.

    Args:
        events: columns ``timestamp`` (UTC), ``charge_point_id``,
            ``evse_id`` (the port; 0 = the whole station) and
            ``connector_status`` (any version's status value; the
            ``status_events`` table of an ingested dataset fits as it is, rows
            without a status are ignored); optionally ``connector_id``
            (several connectors of one port are combined by ``port_rule``).
        start, end: the period (timezone-aware), for ports without their own.
        offline: per charger, windows with no connectivity
            (:func:`offline_windows`); they count as ``unknown``.
        ports: the ports to report, one row each (columns
            ``charge_point_id``, ``evse_id``, ``connectors`` (a tuple of
            connector ids), ``start``, ``end`` and optionally ``observed_start``
            / ``observed_end``, the charger's first and last frame): every port
            gets intervals, those that never reported one ``unknown`` interval.
            None: the ports the events show, over ``[start, end)``.
        port_rule: ``"any"`` (up while one connector is up, the default) or
            ``"all"``.

    Returns:
        columns ``charge_point_id``, ``evse_id``, ``start``, ``end``,
        ``status``, ``state``. A station-level (connector 0) Unavailable or
        Faulted overrides every port of that station while it lasts; time
        before a connector's first event, offline time and time outside the
        charger's frames are ``unknown`` (statuses NoReport, Offline, NoData).
    """
    if port_rule not in PORT_RULES:
        raise ValueError(f"port_rule must be one of {PORT_RULES}, not {port_rule!r}")
    columns = ["timestamp", "charge_point_id", "evse_id", "connector_status"]
    has_connector = "connector_id" in events.columns
    ev = events[columns + (["connector_id"] if has_connector else [])].dropna(
        subset=["connector_status"]
    )
    ev = ev.rename(columns={"connector_status": "status"})
    if not has_connector:
        ev = ev.assign(connector_id=1)
    ev["connector_id"] = ev["connector_id"].fillna(1).astype(int)
    ev["timestamp"] = pd.to_datetime(ev["timestamp"], utc=True)
    ev = ev.sort_values("timestamp", kind="stable")
    if ports is None:
        seen = ev[ev["evse_id"] > 0].groupby(["charge_point_id", "evse_id"], sort=True)
        ports = pd.DataFrame(
            [
                (cp, int(evse), tuple(sorted(set(g["connector_id"]))), start, end)
                for (cp, evse), g in seen
            ],
            columns=["charge_point_id", "evse_id", "connectors", "start", "end"],
        )
    by_connector = {
        (str(cp), int(evse), int(conn)): g
        for (cp, evse, conn), g in ev[ev["evse_id"] > 0].groupby(
            ["charge_point_id", "evse_id", "connector_id"], sort=True
        )
    }
    by_port = {
        (str(cp), int(evse)): g
        for (cp, evse), g in ev[ev["evse_id"] > 0].groupby(["charge_point_id", "evse_id"])
    }
    station = {str(cp): g for cp, g in ev[ev["evse_id"] == 0].groupby("charge_point_id")}
    rows: list[tuple[str, int, pd.Timestamp, pd.Timestamp, str]] = []
    for port in ports.itertuples(index=False):
        cp, evse = str(port.charge_point_id), int(port.evse_id)
        p0, p1 = port.start, port.end
        if p1 <= p0:
            continue
        # Statuses of connectors the port does not list still belong to the port.
        extra = by_port.get((cp, evse))
        seen = set(extra["connector_id"]) if extra is not None else set()
        connectors = sorted(set(port.connectors) | seen) or [1]
        timelines = [
            _port_rows(cp, evse, by_connector[(cp, evse, c)], p0, p1)
            if (cp, evse, c) in by_connector
            else [(cp, evse, p0, p1, NO_REPORT)]
            for c in connectors
        ]
        pieces = _combine(timelines, port_rule) if len(timelines) > 1 else timelines[0]
        windows: list[tuple[pd.Timestamp, pd.Timestamp, str]] = []
        if cp in station:
            windows += [
                (a, b, s)
                for _, _, a, b, s in _port_rows(cp, 0, station[cp], p0, p1)
                if STATE_OF_STATUS.get(s) in (INOPERATIVE, OUT_OF_ORDER)
            ]
        # Offline time is unknown, whatever the last status said.
        windows += [(a, b, OFFLINE) for a, b in (offline or {}).get(cp, ())]
        first = getattr(port, "observed_start", p0)
        last = getattr(port, "observed_end", p1)
        if pd.isna(first) or pd.isna(last):
            windows.append((p0, p1, NO_DATA))  # the charger sent nothing at all
        else:
            if first > p0:
                windows.append((p0, first, NO_DATA))
            if last < p1:
                windows.append((last, p1, NO_DATA))
        if windows:
            pieces = _split(pieces, windows)
        rows.extend(pieces)
    out = pd.DataFrame(rows, columns=["charge_point_id", "evse_id", "start", "end", "status"])
    out["state"] = out["status"].map(STATE_OF_STATUS).fillna(UNKNOWN)
    return out.reset_index(drop=True)


def _port_rows(
    cp: str, connector: int, group: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp
) -> list[tuple[str, int, pd.Timestamp, pd.Timestamp, str]]:
    times = list(group["timestamp"])
    statuses = list(group["status"])
    rows = []
    # The status in force at `start` is the last one before it, if any.
    cursor, current = start, NO_REPORT
    for t, s in zip(times, statuses, strict=True):
        if t <= start:
            current = s
            continue
        if t >= end:
            break
        if t > cursor:
            rows.append((cp, connector, cursor, t, current))
        cursor, current = t, s
    if cursor < end:
        rows.append((cp, connector, cursor, end, current))
    return rows


# Which connector state a port takes when the rule does not make it working: the
# worst known state first (a broken connector says more than an unknown one).
_WORST_FIRST = (OUT_OF_ORDER, INOPERATIVE, UNKNOWN)


def _combine(
    timelines: list[list[tuple[str, int, pd.Timestamp, pd.Timestamp, str]]], rule: str
) -> list[tuple[str, int, pd.Timestamp, pd.Timestamp, str]]:
    """One port timeline from its connectors' timelines (same port, same period)."""
    cp, evse = timelines[0][0][0], timelines[0][0][1]
    cuts = sorted({t for line in timelines for row in line for t in (row[2], row[3])})
    out: list[tuple[str, int, pd.Timestamp, pd.Timestamp, str]] = []
    for a, b in itertools.pairwise(cuts):
        statuses = [next(r[4] for r in line if r[2] <= a < r[3]) for line in timelines]
        states = [STATE_OF_STATUS.get(s, UNKNOWN) for s in statuses]
        working = [s for s, st in zip(statuses, states, strict=True) if st == WORKING]
        if (rule == "any" and working) or (rule == "all" and len(working) == len(statuses)):
            status = working[0]
        else:
            status = next(
                s
                for want in _WORST_FIRST
                for s, st in zip(statuses, states, strict=True)
                if st == want
            )
        if out and out[-1][4] == status and out[-1][3] == a:
            out[-1] = (cp, evse, out[-1][2], b, status)
        else:
            out.append((cp, evse, a, b, status))
    return out


def _split(
    pieces: list[tuple[str, int, pd.Timestamp, pd.Timestamp, str]],
    windows: list[tuple[pd.Timestamp, pd.Timestamp, str]],
) -> list[tuple[str, int, pd.Timestamp, pd.Timestamp, str]]:
    """Each window's status replaces the pieces' while it lasts (later windows win)."""
    frame = pd.DataFrame(pieces, columns=["charge_point_id", "evse_id", "start", "end", "status"])
    cp = str(frame["charge_point_id"].iloc[0])
    split = _override(frame, {cp: windows})
    return list(split.itertuples(index=False, name=None))


def _override(
    ports: pd.DataFrame, windows: dict[str, list[tuple[pd.Timestamp, pd.Timestamp, str]]]
) -> pd.DataFrame:
    """Split port intervals so each window's status replaces theirs while it lasts."""
    out: list[tuple[str, int, pd.Timestamp, pd.Timestamp, str]] = []
    for row in ports.itertuples(index=False):
        pieces = [(row.start, row.end, row.status)]
        for a, b, status in windows.get(row.charge_point_id, ()):
            split = []
            for p0, p1, ps in pieces:
                if b <= p0 or a >= p1:
                    split.append((p0, p1, ps))
                    continue
                if p0 < a:
                    split.append((p0, a, ps))
                split.append((max(p0, a), min(p1, b), status))
                if b < p1:
                    split.append((b, p1, ps))
            pieces = split
        out.extend((row.charge_point_id, row.evse_id, p0, p1, ps) for p0, p1, ps in pieces)
    return pd.DataFrame(out, columns=["charge_point_id", "evse_id", "start", "end", "status"])


def offline_windows(
    frames: pd.DataFrame, max_silence: pd.Timedelta, end: pd.Timestamp
) -> dict[str, list[tuple[pd.Timestamp, pd.Timestamp]]]:
    """Windows in which a charger sent nothing for longer than ``max_silence``.

    A charger that heartbeats every ``interval`` seconds is taken to be offline
    from ``max_silence`` after its last frame until its next one (or ``end``).
    Choose ``max_silence`` as a few heartbeat intervals.

    Args:
        frames: columns ``timestamp`` and ``charge_point_id`` (any direction).
    """
    out: dict[str, list[tuple[pd.Timestamp, pd.Timestamp]]] = {}
    ts = frames[["timestamp", "charge_point_id"]].copy()
    ts["timestamp"] = pd.to_datetime(ts["timestamp"], utc=True)
    for cp, group in ts.sort_values("timestamp").groupby("charge_point_id", sort=True):
        times = [*group["timestamp"], end]
        gaps = [(a + max_silence, b) for a, b in itertools.pairwise(times) if b - a > max_silence]
        if gaps:
            out[str(cp)] = gaps
    return out


def _overlap_minutes(
    a0: pd.Timestamp, a1: pd.Timestamp, windows: list[tuple[pd.Timestamp, pd.Timestamp]]
) -> float:
    """Minutes of [a0, a1) covered by the union of ``windows``."""
    clipped = sorted((max(a0, w0), min(a1, w1)) for w0, w1 in windows if w1 > a0 and w0 < a1)
    total, cursor = 0.0, a0
    for w0, w1 in clipped:
        w0 = max(w0, cursor)
        if w1 > w0:
            total += (w1 - w0).total_seconds() / 60
            cursor = w1
    return total


@dataclass(frozen=True, slots=True)
class Exclusion:
    """A window whose outage minutes a rule does not count (e.g. a utility outage).

    ``evse_id`` None means every port of the station; ``charge_point_id``
    None means every station.
    """

    start: pd.Timestamp
    end: pd.Timestamp
    reason: str
    charge_point_id: str | None = None
    evse_id: int | None = None
    evidence: str = ""


def nevi_uptime(
    intervals: pd.DataFrame,
    exclusions: list[Exclusion] = (),  # type: ignore[assignment]
    closed_hours: list[tuple[pd.Timestamp, pd.Timestamp]] = (),  # type: ignore[assignment]
) -> pd.DataFrame:
    """Per-port uptime under 23 CFR 680.116(b).

    Args:
        intervals: from :func:`status_intervals`.
        exclusions: outage causes the rule excludes; a reason outside
            :data:`NEVI_EXCLUSION_REASONS` raises ValueError (it would not be
            an allowed exclusion).
        closed_hours: windows outside posted operating hours (excluded too).

    Returns:
        per port: ``total_min``, ``outage_min``, ``excluded_min``,
        ``unknown_min`` (the part of the outage with no data: before the first
        status, offline, outside the charger's frames), ``uptime_pct`` and
        ``meets_97``.
    """
    bad = {e.reason for e in exclusions} - NEVI_EXCLUSION_REASONS
    if bad:
        raise ValueError(
            f"not a NEVI exclusion: {sorted(bad)}; allowed: {sorted(NEVI_EXCLUSION_REASONS)}"
        )
    rows = []
    for (cp, connector), group in intervals.groupby(["charge_point_id", "evse_id"], sort=True):
        windows = [
            (e.start, e.end)
            for e in exclusions
            if e.charge_point_id in (None, cp) and e.evse_id in (None, connector)
        ] + list(closed_hours)
        total = outage = excluded = unknown = 0.0
        for row in group.itertuples(index=False):
            minutes = (row.end - row.start).total_seconds() / 60
            total += minutes
            if row.state != WORKING:
                outage += minutes
                excluded += _overlap_minutes(row.start, row.end, windows)
            if row.state == UNKNOWN:
                unknown += minutes
        uptime = 100.0 * (total - (outage - excluded)) / total if total else float("nan")
        rows.append(
            (cp, connector, total, outage, excluded, unknown, uptime, uptime > NEVI_TARGET_PCT)
        )
    return pd.DataFrame(
        rows,
        columns=[
            "charge_point_id",
            "evse_id",
            "total_min",
            "outage_min",
            "excluded_min",
            "unknown_min",
            "uptime_pct",
            "meets_97",
        ],
    )


def uk_network_reliability(
    intervals: pd.DataFrame,
    rated_power_kw: dict[str, float],
    closed_hours: list[tuple[pd.Timestamp, pd.Timestamp]] = (),  # type: ignore[assignment]
) -> tuple[float, pd.DataFrame]:
    """Network reliability under the UK Public Charge Point Regulations 2023.

    A charge point (here: a station) is the unit; only rapid points
    (``rated_power_kw >= 50``) count. Unknown time is ineligible; closed
    hours do not count.

    Returns:
        ``(network %, per-point table)``; the network figure is NaN when the
        network has no rapid point with eligible time.
    """
    rows = []
    for cp, group in intervals.groupby("charge_point_id", sort=True):
        power = rated_power_kw.get(cp, 0.0)
        if power < UK_RAPID_KW:
            continue
        working = not_working = 0.0
        # A point is working while any of its connectors works (it can serve a driver).
        for row in _point_timeline(group):
            start, end, state = row
            minutes = (end - start).total_seconds() / 60 - _overlap_minutes(
                start, end, list(closed_hours)
            )
            if state == WORKING:
                working += minutes
            elif state in (INOPERATIVE, OUT_OF_ORDER):
                not_working += minutes
        eligible = working + not_working
        pct = 100.0 * working / eligible if eligible else float("nan")
        rows.append((cp, power, working, not_working, pct))
    table = pd.DataFrame(
        rows,
        columns=[
            "charge_point_id",
            "rated_power_kw",
            "working_min",
            "not_working_min",
            "reliability_pct",
        ],
    )
    network = float(table["reliability_pct"].mean()) if not table.empty else float("nan")
    return network, table


def _point_timeline(group: pd.DataFrame) -> list[tuple[pd.Timestamp, pd.Timestamp, str]]:
    """Merge a station's port intervals: working if any port works, else the
    worst known state (out of order over inoperative), unknown if all are."""
    cuts = sorted(set(group["start"]) | set(group["end"]))
    out = []
    for a, b in itertools.pairwise(cuts):
        live = group[(group["start"] <= a) & (group["end"] >= b)]["state"]
        states = set(live)
        if WORKING in states:
            state = WORKING
        elif OUT_OF_ORDER in states:
            state = OUT_OF_ORDER
        elif INOPERATIVE in states:
            state = INOPERATIVE
        else:
            state = UNKNOWN
        out.append((a, b, state))
    return out
