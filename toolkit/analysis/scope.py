"""What a KPI is computed over: the period, the ports, when chargers were offline.

The same :class:`Scope` feeds ``ocppkit report`` and the notebooks, so both
show the same figures for the same options.

**Period.** By default each charger's period runs from its first to its last
frame of any kind (heartbeats included), and the fleet's from the first to
the last frame of any charger. ``period=(start, end)`` sets one period for
every charger instead. Time inside a charger's period but before its first
frame or after its last (only possible with an explicit period, or for a
charger that sent nothing) is *no data*: reported as ``unknown``.

A port also counts only between its inventory ``commissioned`` and
``decommissioned`` dates.

**Offline.** A charger is offline from ``offline_after`` after a frame until
its next frame when nothing came in between. The default threshold is three
heartbeat intervals: the ``interval`` of the charger's last accepted
``BootNotification`` answer (or a ``HeartbeatInterval`` the CSMS set later
with ``ChangeConfiguration`` / ``SetVariables``), else 300 s, a common
default: 15 minutes. Three intervals tolerate two lost heartbeats, which a
charger on a weak mobile link loses routinely, and a charger sends any
other message instead of a heartbeat, so a busy charger's gaps are shorter.

**Replayed logs.** When the frames' receive times do not cover the time the
chargers' own clocks span (a replayed or accelerated log), frame times say
nothing about connectivity: the periods come from the chargers' event times
and offline time is not assessed (``offline_assessed`` False).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ocppkit.toolkit.analysis.availability import Exclusion, offline_windows, status_intervals
from ocppkit.toolkit.analysis.dataset import Dataset
from ocppkit.toolkit.analysis.inventory import Inventory, infer_inventory, map_legacy_connectors
from ocppkit.translators.errors import ConfigError

DEFAULT_HEARTBEAT_S = 300.0
OFFLINE_HEARTBEATS = 3


def parse_period(start: str, end: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """``START END`` as UTC timestamps (a time without zone is UTC; a date is midnight).

    Raises:
        ConfigError: unreadable, or end not after start.
    """
    try:
        a, b = pd.Timestamp(start), pd.Timestamp(end)
    except ValueError as exc:
        raise ConfigError(f"--period: {exc}") from None
    a = a.tz_localize("UTC") if a.tzinfo is None else a.tz_convert("UTC")
    b = b.tz_localize("UTC") if b.tzinfo is None else b.tz_convert("UTC")
    if b <= a:
        raise ConfigError(f"--period: end {end} is not after start {start}")
    return a, b


def parse_duration(text: str) -> pd.Timedelta:
    """``15min``, ``900s``, ``1h``, ``00:15:00`` or a number of seconds.

    Raises:
        ConfigError: unreadable or not positive.
    """
    try:
        value = pd.Timedelta(float(text), unit="s") if text.replace(".", "", 1).isdigit() else (
            pd.Timedelta(text)
        )  # fmt: skip
    except ValueError:
        raise ConfigError(f"--offline-after: {text!r} is not a duration (e.g. 15min)") from None
    if value <= pd.Timedelta(0):
        raise ConfigError("--offline-after must be positive")
    return value


def charger_windows(frames: pd.DataFrame) -> pd.DataFrame:
    """Per charger, its first and last frame of any kind: ``charge_point_id, first, last``."""
    ts = frames[["charge_point_id", "timestamp"]].dropna()
    ts = ts[ts["timestamp"] >= pd.Timestamp("2000-01-01T00:00:00Z")]  # 1970 clocks
    grouped = ts.groupby("charge_point_id")["timestamp"]
    return pd.DataFrame({"first": grouped.min(), "last": grouped.max()}).reset_index()


def heartbeat_intervals(frames: pd.DataFrame) -> dict[str, float]:
    """Per charger, the heartbeat interval (s) the CSMS gave it last.

    From accepted ``BootNotification`` answers (``interval``), and
    ``HeartbeatInterval`` set with ``ChangeConfiguration`` (1.6) or
    ``SetVariables`` (2.0.1, component ``OCPPCommCtrlr``).
    """
    out: dict[str, tuple[pd.Timestamp, float]] = {}
    rows = frames[
        ((frames["message_type"] == 3) & (frames["matched_action"] == "BootNotification"))
        | ((frames["message_type"] == 2)
           & frames["action"].isin(("ChangeConfiguration", "SetVariables")))
    ].sort_values("timestamp", kind="stable")  # fmt: skip
    for cp, ts, action, payload in zip(
        rows["charge_point_id"], rows["timestamp"], rows["action"], rows["payload"], strict=True
    ):
        body = json.loads(payload)
        value: object = None
        if action is None or pd.isna(action):
            if body.get("status") == "Accepted":
                value = body.get("interval")
        elif action == "ChangeConfiguration" and body.get("key") == "HeartbeatInterval":
            value = body.get("value")
        elif action == "SetVariables":
            for item in body.get("setVariableData") or []:
                if (item.get("variable") or {}).get("name") == "HeartbeatInterval":
                    value = item.get("attributeValue")
        try:
            seconds = float(str(value)) if value is not None else 0.0
        except ValueError:
            continue
        if seconds > 0:
            out[str(cp)] = (ts, seconds)
    return {cp: s for cp, (_, s) in out.items()}


def offline_thresholds(
    frames: pd.DataFrame, chargers: Sequence[str], offline_after: pd.Timedelta | None = None
) -> dict[str, pd.Timedelta]:
    """Per charger, the silence after which it counts as offline (see module doc)."""
    if offline_after is not None:
        return dict.fromkeys(chargers, offline_after)
    intervals = heartbeat_intervals(frames)
    return {
        cp: pd.Timedelta(seconds=OFFLINE_HEARTBEATS * intervals.get(cp, DEFAULT_HEARTBEAT_S))
        for cp in chargers
    }


@dataclass
class Scope:
    """The period, the ports and the offline windows every KPI shares.

    Attributes:
        start, end: the fleet's period.
        explicit: True when the period was given.
        ports: one row per port: ``charge_point_id``, ``evse_id``,
            ``connectors``, ``rated_power_kw``, ``site``, ``start``/``end``
            (its period), ``observed_start``/``observed_end`` (its charger's
            first and last frame; NaT when it sent none).
        inventory: the inventory used (``inventory.inferred`` when read off the logs).
        thresholds: per charger, the offline threshold used.
        offline: per charger, its offline windows.
        offline_assessed: False for replayed logs (see module doc).
        exclusions: NEVI exclusions.
    """

    start: pd.Timestamp
    end: pd.Timestamp
    explicit: bool
    ports: pd.DataFrame
    inventory: Inventory
    thresholds: dict[str, pd.Timedelta]
    offline: dict[str, list[tuple[pd.Timestamp, pd.Timestamp]]]
    offline_assessed: bool
    exclusions: list[Exclusion] = field(default_factory=list)

    @property
    def port_minutes(self) -> float:
        return float(((self.ports["end"] - self.ports["start"]).dt.total_seconds() / 60).sum())

    def describe(self) -> dict[str, object]:
        """The scope as it goes in ``summary.json``."""
        thresholds = sorted({t.total_seconds() for t in self.thresholds.values()})
        return {
            "period": [self.start.isoformat(), self.end.isoformat()],
            "period_rule": "given" if self.explicit else "first to last frame, per charger",
            "inventory": "inferred from the logs" if self.inventory.inferred else "given",
            "ports": len(self.ports),
            "chargers": int(self.ports["charge_point_id"].nunique()) if len(self.ports) else 0,
            "offline_assessed": self.offline_assessed,
            "offline_after_s": thresholds,
            "exclusions": len(self.exclusions),
        }


def _event_windows(data: Dataset) -> pd.DataFrame:
    parts = [
        data.sessions[["charge_point_id", "start_time"]].rename(columns={"start_time": "t"}),
        data.sessions[["charge_point_id", "stop_time"]].rename(columns={"stop_time": "t"}),
        data.status_events[["charge_point_id", "timestamp"]].rename(columns={"timestamp": "t"}),
        data.meter_values[["charge_point_id", "timestamp"]].rename(columns={"timestamp": "t"}),
    ]
    stamps = pd.concat([p.dropna() for p in parts if len(p)], ignore_index=True)
    return charger_windows(stamps.rename(columns={"t": "timestamp"}))


def build_scope(
    data: Dataset,
    *,
    period: tuple[pd.Timestamp, pd.Timestamp] | None = None,
    inventory: Inventory | None = None,
    offline_after: pd.Timedelta | None = None,
    exclusions: Sequence[Exclusion] = (),
) -> Scope:
    """The :class:`Scope` of a dataset under the given options (see module doc).

    Raises:
        ConfigError: the dataset has no timestamped frame and no period is given.
    """
    inv = inventory or infer_inventory(
        data.frames, data.status_events, data.sessions, data.meter_values
    )
    event_start, event_end = data.period
    # Events at one instant (or none) leave nothing for frame times to contradict.
    judged = bool(data.frames["timestamp"].notna().any()) and (
        event_end <= event_start or data.receive_times_cover(event_start, event_end)
    )
    windows = charger_windows(data.frames) if judged else _event_windows(data)
    if windows.empty and period is None:
        raise ConfigError(f"{data.root}: no timestamped frame to take the period from")

    def offline_of(
        thresholds: dict[str, pd.Timedelta], seen: pd.DataFrame, end: pd.Timestamp
    ) -> dict[str, list[tuple[pd.Timestamp, pd.Timestamp]]]:
        offline: dict[str, list[tuple[pd.Timestamp, pd.Timestamp]]] = {}
        for cp, group in data.frames.groupby("charge_point_id", sort=True):
            if str(cp) not in thresholds:
                continue
            last = seen.loc[cp, "last"] if cp in seen.index else end
            offline.update(offline_windows(group, thresholds[str(cp)], last))
        return offline

    return assemble_scope(
        inv,
        windows,
        judged,
        lambda chargers: offline_thresholds(data.frames, chargers, offline_after),
        offline_of,
        period=period,
        exclusions=exclusions,
    )


def assemble_scope(
    inv: Inventory,
    windows: pd.DataFrame,
    judged: bool,
    thresholds_of: Callable[[Sequence[str]], dict[str, pd.Timedelta]],
    offline_of: Callable[
        [dict[str, pd.Timedelta], pd.DataFrame, pd.Timestamp],
        dict[str, list[tuple[pd.Timestamp, pd.Timestamp]]],
    ],
    *,
    period: tuple[pd.Timestamp, pd.Timestamp] | None = None,
    exclusions: Sequence[Exclusion] = (),
) -> Scope:
    """The :class:`Scope` from its parts, however they were computed.

    :func:`build_scope` computes them with pandas over a loaded dataset, the
    DuckDB engine (:mod:`ocppkit.toolkit.analysis.engine_duckdb`) with SQL over
    the Parquet files; both assemble the scope here, so they agree.

    Args:
        inv: the inventory.
        windows: per charger, ``first`` and ``last`` (frames, or events when not judged).
        judged: the frames' receive times tell connectivity (see module doc).
        thresholds_of: the offline threshold of each of the given chargers.
        offline_of: ``(thresholds, windows indexed by charger, fleet end)`` -> the
            offline windows per charger (called only when ``judged``).
    """
    start, end = period or (windows["first"].min(), windows["last"].max())
    ports = inv.ports()
    # Chargers that sent frames but have no port anywhere still show in the tables.
    seen = windows.set_index("charge_point_id")
    ports = ports.merge(windows, on="charge_point_id", how="left").rename(
        columns={"first": "observed_start", "last": "observed_end"}
    )
    if period is None:
        ports["start"] = ports["observed_start"].fillna(start)
        ports["end"] = ports["observed_end"].fillna(end)
    else:
        ports["start"], ports["end"] = start, end
    for column, op in (("commissioned", "max"), ("decommissioned", "min")):
        bound = ports[column]
        if bound.notna().any():
            target = "start" if op == "max" else "end"
            both = pd.concat([ports[target], bound], axis=1)
            ports[target] = both.max(axis=1) if op == "max" else both.min(axis=1)
    ports["end"] = ports[["start", "end"]].max(axis=1)  # decommissioned before start: empty
    chargers = sorted(set(ports["charge_point_id"]) | set(seen.index))
    thresholds = thresholds_of(chargers)
    offline = offline_of(thresholds, seen, end) if judged else {}
    return Scope(
        start, end, period is not None, ports.reset_index(drop=True), inv, thresholds, offline,
        judged, list(exclusions),
    )  # fmt: skip


def port_intervals(data: Dataset, scope: Scope, port_rule: str = "any") -> pd.DataFrame:
    """Per-port state intervals over each port's period (:func:`status_intervals`)."""
    events = map_legacy_connectors(data.status_events, scope.inventory)
    return status_intervals(
        events, scope.start, scope.end, scope.offline, ports=scope.ports, port_rule=port_rule
    )


def scope_from_options(
    data: Dataset,
    *,
    period: tuple[str | pd.Timestamp, str | pd.Timestamp] | None = None,
    inventory: str | Path | Inventory | None = None,
    offline_after: str | pd.Timedelta | None = None,
    exclusions: str | Path | Sequence[Exclusion] | None = None,
) -> Scope:
    """:func:`build_scope` from the options as ``ocppkit report`` takes them.

    Each option may be given as the CLI's text (a period's two times, an
    inventory or exclusions file, a duration such as ``"15min"``) or as the
    parsed object; None keeps the default. The notebooks' parameters go
    through here, so a notebook and the report agree.
    """
    from ocppkit.toolkit.analysis.exclusions import load_exclusions
    from ocppkit.toolkit.analysis.inventory import load_inventory

    if period is not None:
        a, b = period
        period_ts = (
            (a, b)
            if isinstance(a, pd.Timestamp) and isinstance(b, pd.Timestamp)
            else parse_period(str(a), str(b))
        )
    inv = inventory if isinstance(inventory, Inventory) or inventory is None else (
        load_inventory(inventory)
    )  # fmt: skip
    silence = offline_after if not isinstance(offline_after, str) else parse_duration(offline_after)
    excluded = load_exclusions(exclusions) if isinstance(exclusions, str | Path) else (
        list(exclusions or ())
    )  # fmt: skip
    return build_scope(
        data,
        period=period_ts if period is not None else None,
        inventory=inv,
        offline_after=silence,
        exclusions=excluded,
    )
