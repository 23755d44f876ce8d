"""Everything ``ocppkit report`` shows, computed by either engine, small enough to keep.

Two engines compute the same :class:`Findings`:

- ``pandas`` (the reference): the dataset loaded whole
  (:func:`ocppkit.toolkit.analysis.dataset.load`) and the KPI functions run
  on whole tables;
- ``duckdb`` (bounded memory): fleet-wide totals and the scope are SQL over
  the Parquet files, and the per-charger KPIs run on one batch of chargers at
  a time (:mod:`ocppkit.toolkit.analysis.engine_duckdb`).

The per-charger KPIs (utilisation, anomalies, status intervals, NEVI and
PCPR, MTBF, ChargeX attempts, costs, reboots) go through one
:class:`_Accumulator` in both engines: the pandas engine feeds it the whole
dataset as one batch, the DuckDB engine one batch of chargers at a time.
Those KPIs are per charger, port or session, so batches concatenate; the
fleet figures are recomputed from the concatenated per-port tables.

Under a period, every engine counts what starts in it (:func:`in_period`,
and :data:`COUNTED_BY` for the fleet-wide SQL) and clips the time figures to
it; see the README's "Period".
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ocppkit.toolkit.analysis.anomalies import FLAGS, session_anomalies
from ocppkit.toolkit.analysis.availability import (
    INOPERATIVE,
    OUT_OF_ORDER,
    UNKNOWN,
    WORKING,
    Exclusion,
    nevi_uptime,
    status_intervals,
    uk_network_reliability,
)
from ocppkit.toolkit.analysis.chargex import attempts, chargex_of, session_ends
from ocppkit.toolkit.analysis.costs import compare_costs, reported_costs, session_costs
from ocppkit.toolkit.analysis.dataset import Dataset, load
from ocppkit.toolkit.analysis.faults import callerror_rates, faults_by_code, reboots, reliability
from ocppkit.toolkit.analysis.figures import (
    Curve,
    RegisterLine,
    curve_data,
    histogram,
    register_lines,
)
from ocppkit.toolkit.analysis.inventory import Inventory, infer_inventory, map_legacy_connectors
from ocppkit.toolkit.analysis.scope import (
    Scope,
    assemble_scope,
    build_scope,
    offline_thresholds,
)
from ocppkit.toolkit.analysis.sessions import (
    fleet_summary,
    port_utilisation,
    session_kpis,
    sessions_per_port_per_day,
    start_hour_heatmap,
    utilisation_of,
)
from ocppkit.toolkit.tariff import Tariff
from ocppkit.translators.errors import ConfigError

ENGINES = ("pandas", "duckdb", "spark")
TABLE_ROWS = 30  # rows a report table shows
CURVES = 12  # power curves drawn
REGISTER_CHARGERS = 12  # energy register lines drawn
TIMELINE_PORTS = 20  # ports in the state timeline
HIST_BINS = 20


@dataclass
class Options:
    """The report's options (see :func:`ocppkit.toolkit.analysis.report.build_report`)."""

    tariff: Tariff | None = None
    tz: str = "UTC"
    rated_power_kw: dict[str, float] | None = None
    offline_after: pd.Timedelta | None = None
    period: tuple[pd.Timestamp, pd.Timestamp] | None = None
    inventory: Inventory | None = None
    exclusions: Sequence[Exclusion] = ()
    port_rule: str = "any"
    chargers: Sequence[str] | None = None
    sites: Sequence[str] | None = None


@dataclass
class Findings:
    """The report's numbers and its figures' inputs (all small)."""

    root: Path
    scope: Scope
    fleet: dict[str, float]
    use: dict[str, float]
    per_port_use: pd.DataFrame
    kpis_head: pd.DataFrame  # first TABLE_ROWS sessions by start time
    energy_hist: tuple[np.ndarray, np.ndarray]  # (counts, edges)
    duration_hist: tuple[np.ndarray, np.ndarray]
    heat: pd.DataFrame
    anomaly_counts: dict[str, int]
    anomaly_sessions: int
    flagged: pd.DataFrame  # charge_point_id, transaction_id, evidence
    curves: list[Curve]
    register_lines: list[RegisterLine]
    nevi: pd.DataFrame
    uk_network: float
    uk_table: pd.DataFrame
    timeline: pd.DataFrame  # intervals of the first TIMELINE_PORTS ports
    state_days: pd.DataFrame  # minutes per UTC day and state, all ports
    ports_seen: int
    faults: int
    by_code: pd.DataFrame
    reliability: pd.DataFrame
    reboots: pd.DataFrame
    callerrors: pd.DataFrame
    chargex: dict[str, Any]
    costs: dict[str, Any] | None
    compared_head: pd.DataFrame | None
    daily: pd.DataFrame  # day, energy_kwh
    daily_revenue: pd.DataFrame | None  # day, total
    quarantine: int
    quarantine_head: pd.DataFrame
    engine: str = "pandas"
    extra: dict[str, Any] = field(default_factory=dict)


def _narrow(scope: Scope, chargers: Sequence[str]) -> Scope:
    keep = set(chargers)
    return dataclasses.replace(
        scope, ports=scope.ports[scope.ports["charge_point_id"].isin(keep)].reset_index(drop=True)
    )


def state_minutes_per_day(intervals: pd.DataFrame) -> pd.DataFrame:
    """Minutes per UTC day and state over all ports: ``day``, ``state``, ``minutes``."""
    if intervals.empty:
        return pd.DataFrame(columns=["day", "state", "minutes"])
    rows: list[tuple[pd.Timestamp, str, float]] = []
    for a, b, state in zip(intervals["start"], intervals["end"], intervals["state"], strict=True):
        cursor = a
        while cursor < b:
            day = cursor.floor("D")
            stop = min(b, day + pd.Timedelta(days=1))
            rows.append((day, state, (stop - cursor).total_seconds() / 60))
            cursor = stop
    frame = pd.DataFrame(rows, columns=["day", "state", "minutes"])
    return frame.groupby(["day", "state"], as_index=False)["minutes"].sum()


def _utc(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values, utc=True)


def _within(values: pd.Series, period: tuple[pd.Timestamp, pd.Timestamp]) -> pd.Series:
    t = _utc(values)
    return (t >= period[0]) & (t < period[1])


def session_time(sessions: pd.DataFrame) -> pd.Series:
    """When a session counts: its start, else (started before the log) its stop."""
    return _utc(sessions["start_time"]).fillna(_utc(sessions["stop_time"]))


def in_period(data: Dataset, period: tuple[pd.Timestamp, pd.Timestamp] | None) -> Dataset:
    """What a period *counts* (README, "Period"): the sessions, faults and frames
    that start in ``[start, end)``, and the meter values of those sessions.

    A session counts in the period it started in (its stop when it has no
    start), whatever its length, so consecutive periods add up to the whole
    dataset. Meter values follow their session (a value with no transaction
    counts by its own time); faults count by ``start_time``; frames (CALLERRORs,
    boots) by receive time. Status events are left whole: availability clips
    the intervals they make (the status in force at the start comes from
    before it). ``period`` None: ``data`` unchanged.
    """
    if period is None:
        return data
    sessions = data.sessions[_within(session_time(data.sessions), period)]
    keys = pd.MultiIndex.from_frame(sessions[["charge_point_id", "transaction_id"]])
    mv = data.meter_values
    of_session = pd.MultiIndex.from_frame(mv[["charge_point_id", "transaction_id"]]).isin(keys)
    loose = mv["transaction_id"].isna().to_numpy() & _within(mv["timestamp"], period).to_numpy()
    return Dataset(
        root=data.root,
        frames=data.frames[_within(data.frames["timestamp"], period)].reset_index(drop=True),
        sessions=sessions.reset_index(drop=True),
        meter_values=mv[of_session | loose].reset_index(drop=True),
        status_events=data.status_events,
        faults=data.faults[_within(data.faults["start_time"], period)].reset_index(drop=True),
        quarantine=data.quarantine,
    )


def period_attempts(
    data: Dataset, period: tuple[pd.Timestamp, pd.Timestamp] | None
) -> pd.DataFrame:
    """The ChargeX attempts (:func:`ocppkit.toolkit.analysis.chargex.attempts`) that start
    in ``period``, from the whole ``data`` (an attempt's signs may lie outside it)."""
    table = attempts(data.frames, data.sessions, data.status_events)
    if period is None:
        return table
    return table[_within(table["start"], period)].reset_index(drop=True)


def counted_sessions(data: Dataset, scope: Scope) -> pd.DataFrame:
    """The sessions ``scope``'s period counts (:func:`in_period`)."""
    if not scope.explicit:
        return data.sessions
    return data.sessions[_within(session_time(data.sessions), (scope.start, scope.end))]


def touching(
    sessions: pd.DataFrame, period: tuple[pd.Timestamp, pd.Timestamp] | None
) -> pd.DataFrame:
    """The sessions with time inside ``period`` (utilisation's, clipped to it)."""
    if period is None:
        return sessions
    start = session_time(sessions)
    stop = _utc(sessions["stop_time"])
    keep = (start < period[1]) & (stop.isna() | (stop >= period[0]))
    return sessions[keep].reset_index(drop=True)


class _Accumulator:
    """The per-charger KPIs of one batch after another (see module doc)."""

    def __init__(self, scope: Scope, options: Options) -> None:
        self.scope, self.options = scope, options
        self.use_tables: list[pd.DataFrame] = []
        self.outside = 0
        self.anomaly_counts = dict.fromkeys(FLAGS, 0)
        self.anomaly_sessions = 0
        self.flagged: list[pd.DataFrame] = []
        self.curves: list[Curve] = []
        self.register_lines: list[RegisterLine] = []
        self.nevi: list[pd.DataFrame] = []
        self.uk: list[pd.DataFrame] = []
        self.timeline: list[pd.DataFrame] = []
        self.timeline_ports = 0
        self.state_days: list[pd.DataFrame] = []
        self.reliability: list[pd.DataFrame] = []
        self.reboots: list[pd.DataFrame] = []
        self.attempts: list[pd.DataFrame] = []
        self.visits = 0
        self.ended = self.good_ends = 0
        self.compared: list[pd.DataFrame] = []
        self.revenue = 0.0
        self.priced = 0
        self.daily: list[pd.DataFrame] = []
        self.daily_revenue: list[pd.DataFrame] = []
        self.faults: list[pd.DataFrame] = []

    def add(self, whole: Dataset, scope: Scope) -> None:
        opts, inv = self.options, scope.inventory
        period = (scope.start, scope.end) if scope.explicit else None
        data = in_period(whole, period)  # what the period counts (see in_period)
        near = touching(whole.sessions, period)
        # -- sessions: utilisation per port (time clipped to each port's period)
        ported = map_legacy_connectors(near, inv)
        use, table = port_utilisation(ported, scope.ports)
        self.use_tables.append(table)
        self.outside += int(use["sessions_outside_ports"])
        # -- anomalies
        anomalies = session_anomalies(data.sessions, data.meter_values, data_end=scope.end)
        for flag in FLAGS:
            self.anomaly_counts[flag] += int(anomalies[flag].sum())
        self.anomaly_sessions += len(anomalies)
        self.flagged.append(
            anomalies.loc[
                anomalies["any_anomaly"], ["charge_point_id", "transaction_id", "evidence"]
            ]
        )
        self._figure_inputs(data, anomalies)
        # -- availability
        events = map_legacy_connectors(whole.status_events, inv)
        intervals = status_intervals(
            events, scope.start, scope.end, scope.offline, ports=scope.ports,
            port_rule=opts.port_rule,
        )  # fmt: skip
        if len(intervals):  # a batch of chargers without a port has no availability
            self._availability(data, near, scope, intervals)

        # -- faults
        self.faults.append(faults_by_code(data.faults))
        if len(data.frames):
            self.reboots.append(reboots(data.frames))
        table = period_attempts(whole, period)
        table["visit"] = table["visit"] + self.visits
        self.visits = int(table["visit"].max()) if len(table) else self.visits
        self.attempts.append(table)
        ended, good = session_ends(data.sessions)
        self.ended += ended
        self.good_ends += good
        # -- costs
        self.daily.append(sessions_per_port_per_day(data.sessions)[["day", "energy_kwh"]])
        if opts.tariff is not None:
            costs = session_costs(
                opts.tariff, data.sessions, data.meter_values, whole.status_events
            )
            compared = compare_costs(costs, reported_costs(whole.frames))
            self.revenue += float(sum(costs["total"])) if len(costs) else 0.0
            self.priced += len(costs)
            self.compared.append(compared)
            days = data.sessions.set_index(["charge_point_id", "transaction_id"])["start_time"]
            day = pd.to_datetime(
                pd.Series(
                    [days.get((c, t)) for c, t in zip(costs["charge_point_id"],
                                                      costs["transaction_id"], strict=True)],
                    dtype=object,
                ),
                utc=True,
            ).dt.floor("D")  # fmt: skip
            self.daily_revenue.append(
                pd.DataFrame({"day": day, "total": [float(v) for v in costs["total"]]})
            )

    def merge(self, other: _Accumulator) -> None:
        """Take in the next batch's accumulator (made by :meth:`add` on a fresh one):
        the same as if this one had added that batch itself."""
        for name in ("use_tables", "flagged", "nevi", "uk", "state_days", "reliability",
                     "reboots", "compared", "daily", "daily_revenue", "faults",
                     "register_lines"):  # fmt: skip
            getattr(self, name).extend(getattr(other, name))
        for name in ("outside", "anomaly_sessions", "ended", "good_ends", "revenue", "priced"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for flag, n in other.anomaly_counts.items():
            self.anomaly_counts[flag] += n
        self.curves += other.curves[: max(0, CURVES - len(self.curves))]
        for table in other.attempts:
            table = table.copy()
            table["visit"] = table["visit"] + self.visits
            self.attempts.append(table)
        self.visits += other.visits
        for table in other.timeline:
            if self.timeline_ports >= TIMELINE_PORTS:
                break
            keys = table[["charge_point_id", "evse_id"]].drop_duplicates()
            keys = keys.head(TIMELINE_PORTS - self.timeline_ports)
            self.timeline_ports += len(keys)
            self.timeline.append(table.merge(keys, on=["charge_point_id", "evse_id"]))

    def _availability(
        self, data: Dataset, near: pd.DataFrame, scope: Scope, intervals: pd.DataFrame
    ) -> None:
        self.nevi.append(nevi_uptime(intervals, list(scope.exclusions)))
        powers = self.options.rated_power_kw or rated_power(scope, near)
        self.uk.append(uk_network_reliability(intervals, powers)[1])
        self.reliability.append(reliability(data.faults, intervals))
        self.state_days.append(state_minutes_per_day(intervals))
        if self.timeline_ports < TIMELINE_PORTS:
            keys = intervals[["charge_point_id", "evse_id"]].drop_duplicates()
            keys = keys.head(TIMELINE_PORTS - self.timeline_ports)
            self.timeline_ports += len(keys)
            self.timeline.append(intervals.merge(keys, on=["charge_point_id", "evse_id"]))

    def _figure_inputs(self, data: Dataset, anomalies: pd.DataFrame) -> None:
        if len(self.curves) < CURVES:
            self.curves += curve_data(data.meter_values, data.sessions, CURVES - len(self.curves))
        self.register_lines += register_lines(data.meter_values, anomalies)

    def finish(self, **fleet_wide: Any) -> Findings:
        opts = self.options
        per_port = _concat(self.use_tables)
        nevi = _concat(self.nevi)
        uk_table = _concat(self.uk)
        network = float(uk_table["reliability_pct"].mean()) if not uk_table.empty else float("nan")
        table = _concat(self.attempts)
        chargex = chargex_of(table, self.ended, self.good_ends)
        flagged = _concat(self.flagged)
        costs = compared_head = revenue = None
        if opts.tariff is not None:
            compared = _concat(self.compared)
            costs = {
                "currency": opts.tariff.currency,
                "revenue_incl_vat": self.revenue,
                "sessions_priced": self.priced,
                "reported": int(compared["reported"].notna().sum()) if len(compared) else 0,
                "matching_reported": int(compared["matches"].sum()) if len(compared) else 0,
            }
            compared_head = compared.head(TABLE_ROWS)
            compared_head.attrs["rows"] = len(compared)
            revenue = _concat(self.daily_revenue)
        state_days = _concat(self.state_days)
        if len(state_days):
            state_days = state_days.groupby(["day", "state"], as_index=False)["minutes"].sum()
        daily = _concat(self.daily)
        by_code = _merge_codes(_concat(self.faults))
        return Findings(
            scope=self.scope,
            use=utilisation_of(per_port, self.outside),
            per_port_use=per_port,
            anomaly_counts=self.anomaly_counts,
            anomaly_sessions=self.anomaly_sessions,
            flagged=flagged,
            curves=self.curves,
            register_lines=self.register_lines,
            nevi=nevi,
            uk_network=network,
            uk_table=uk_table,
            timeline=_concat(self.timeline),
            state_days=state_days,
            ports_seen=len(nevi),
            by_code=by_code,
            reliability=_states_filled(_concat(self.reliability)),
            reboots=_concat(self.reboots),
            chargex=chargex,
            costs=costs,
            compared_head=compared_head,
            daily=daily,
            daily_revenue=revenue,
            **fleet_wide,
        )


def _concat(parts: list[pd.DataFrame]) -> pd.DataFrame:
    present = [p for p in parts if len(p)]
    if present:
        return pd.concat(present, ignore_index=True)
    return parts[0].iloc[:0].reset_index(drop=True) if parts else pd.DataFrame()


def _states_filled(table: pd.DataFrame) -> pd.DataFrame:
    """Batches' :func:`reliability` tables concatenated: a state one batch never saw is 0 h."""
    states = [c for c in (WORKING, INOPERATIVE, OUT_OF_ORDER, UNKNOWN) if c in table.columns]
    table[states] = table[states].fillna(0.0)
    return table


def _merge_codes(parts: pd.DataFrame) -> pd.DataFrame:
    """Per-batch :func:`faults_by_code` tables as one (chargers are disjoint: they add up)."""
    if parts.empty:
        return parts
    table = (
        parts.groupby(["code", "vendor"], sort=False)[["faults", "chargers", "hours"]]
        .sum()
        .reset_index()
        .sort_values(["faults", "hours"], ascending=False, kind="stable")
    )
    table["share_pct"] = 100.0 * table["faults"] / max(1, int(table["faults"].sum()))
    return table.reset_index(drop=True)


def rated_power(scope: Scope, sessions: pd.DataFrame) -> dict[str, float]:
    """Per charger: the inventory's rated power, else the largest session peak."""
    seen = (sessions.groupby("charge_point_id")["max_power_w"].max() / 1000).fillna(0).to_dict()
    listed = (
        scope.ports.dropna(subset=["rated_power_kw"])
        .groupby("charge_point_id")["rated_power_kw"]
        .max()
    )
    return {**{str(k): float(v) for k, v in seen.items()},
            **{str(k): float(v) for k, v in listed.items()}}  # fmt: skip


def selected_chargers(options: Options) -> list[str] | None:
    """The chargers ``--charger`` and ``--site`` select (None: every charger).

    Raises:
        ConfigError: sites without an inventory, or a site the inventory lacks.
    """
    chosen: set[str] | None = set(options.chargers) if options.chargers else None
    if options.sites:
        if options.inventory is None:
            raise ConfigError("--site needs --inventory (sites are named there)")
        connectors = options.inventory.connectors
        unknown = sorted(set(options.sites) - set(connectors["site"].dropna().astype(str)))
        if unknown:
            raise ConfigError(f"--site: the inventory names no site {unknown}")
        in_sites = set(
            connectors.loc[connectors["site"].astype(str).isin(options.sites), "charge_point_id"]
        )
        chosen = in_sites if chosen is None else chosen & in_sites
    return sorted(chosen) if chosen is not None else None


def only_chargers(data: Dataset, chargers: Sequence[str] | None) -> Dataset:
    """The dataset restricted to ``chargers`` (the pandas engine's charger filter)."""
    if chargers is None:
        return data
    keep = set(chargers)
    tables = {
        name: getattr(data, name)[getattr(data, name)["charge_point_id"].isin(keep)].reset_index(
            drop=True
        )
        for name in ("frames", "sessions", "meter_values", "status_events", "faults")
    }
    return Dataset(root=data.root, quarantine=data.quarantine, **tables)


def _narrow_inventory(options: Options, chargers: Sequence[str] | None) -> Inventory | None:
    inv = options.inventory
    if inv is None or chargers is None:
        return inv
    keep = inv.connectors["charge_point_id"].isin(set(chargers))
    return dataclasses.replace(inv, connectors=inv.connectors[keep].reset_index(drop=True))


# -- the pandas engine


def pandas_findings(dataset: str | Path | Dataset, options: Options) -> Findings:
    """:class:`Findings` with the whole dataset in memory (the reference engine)."""
    chargers = selected_chargers(options)
    data = only_chargers(dataset if isinstance(dataset, Dataset) else load(dataset), chargers)
    scope = build_scope(
        data, period=options.period, inventory=_narrow_inventory(options, chargers),
        offline_after=options.offline_after, exclusions=options.exclusions,
    )  # fmt: skip
    acc = _Accumulator(scope, options)
    acc.add(data, scope)
    counted = in_period(data, (scope.start, scope.end) if scope.explicit else None)
    kpis = session_kpis(counted.sessions)
    return acc.finish(
        root=data.root,
        fleet=fleet_summary(counted.sessions),
        kpis_head=kpis.sort_values("start_time", kind="stable").head(TABLE_ROWS),
        energy_hist=histogram(kpis["energy_kwh"]),
        duration_hist=histogram(kpis["duration_h"]),
        heat=start_hour_heatmap(counted.sessions, options.tz),
        faults=len(counted.faults),
        callerrors=callerror_rates(counted.frames),
        quarantine=len(data.quarantine),
        quarantine_head=data.quarantine[["source_file", "line", "reason"]].head(TABLE_ROWS),
        engine="pandas",
        extra={"sessions": len(kpis)},
    )


# -- the DuckDB engine


def duckdb_findings(
    root: str | Path,
    options: Options,
    *,
    batch_size: int | None = None,
    batch_rows: int | None = None,
    memory_limit: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Findings:
    """:class:`Findings` in bounded memory (see module doc and
    :mod:`ocppkit.toolkit.analysis.engine_duckdb`).

    Args:
        progress: called with ``(batches done, batches)`` after each batch.
    """
    from ocppkit.toolkit.analysis import engine_duckdb as eng

    chargers = selected_chargers(options)
    kwargs: dict[str, Any] = {"chargers": chargers}
    if batch_size:
        kwargs["batch_size"] = batch_size
    if batch_rows:
        kwargs["batch_rows"] = batch_rows
    if memory_limit:
        kwargs["memory_limit"] = memory_limit
    with eng.Source(root, period=options.period, **kwargs) as src:
        scope = scope_of_source(src, options, _narrow_inventory(options, chargers))
        listed = list(scope.ports["charge_point_id"].astype(str))
        everyone = src.chargers(listed)
        src.stage(everyone)
        acc = _Accumulator(scope, options)
        heat: pd.DataFrame | None = None
        total = len(src._batches)
        for done, (batch, data) in enumerate(src.batches(), 1):
            acc.add(data, _narrow(scope, batch))
            part = start_hour_heatmap(counted_sessions(data, scope), options.tz)
            heat = part if heat is None else heat + part
            if progress is not None:
                progress(done, total)
        return _fleet_wide(src, acc, heat, options, "duckdb", total)


def _fleet_wide(
    src: Any, acc: _Accumulator, heat: pd.DataFrame | None, options: Options, engine: str,
    batches: int,
) -> Findings:  # fmt: skip
    """The findings of a batched engine: the fleet-wide figures by ``src``'s SQL (over what
    the period counts: :func:`counted_sql`)."""
    period = (acc.scope.start, acc.scope.end) if acc.scope.explicit else None
    src = _Counted(src, period)
    fleet, count = _duck_fleet(src)
    empty_heat = pd.DataFrame({"start_time": pd.Series([], dtype="datetime64[ns, UTC]")})
    return acc.finish(
        root=src.root,
        fleet=fleet,
        kpis_head=_duck_kpis_head(src),
        energy_hist=_duck_hist(src, "energy_wh / 1000.0"),
        duration_hist=_duck_hist(src, "duration_s / 3600.0"),
        heat=heat if heat is not None else start_hour_heatmap(empty_heat, options.tz),
        faults=int(src.one(f"SELECT count(*) FROM {src.scan('faults')}")[0]),
        callerrors=_duck_callerrors(src),
        quarantine=int(src.one(f"SELECT count(*) FROM {src.scan('quarantine')}")[0]),
        quarantine_head=src.df(
            f"""SELECT source_file, line, reason FROM {src.scan("quarantine")}
            ORDER BY {src.order} LIMIT {TABLE_ROWS}"""
        ),
        engine=engine,
        extra={"sessions": count, "batches": batches},
    )


# -- the Spark engine


def _default_master() -> str | None:
    """spark-submit's master when it launched us, else local mode on every core."""
    import os

    return None if os.environ.get("SPARK_ENV_LOADED") or os.environ.get(
        "PYSPARK_GATEWAY_PORT") else "local[*]"  # fmt: skip


def spark_findings(
    root: str | Path,
    options: Options,
    *,
    spark: Any = None,
    batch_size: int | None = None,
    batch_rows: int | None = None,
) -> Findings:
    """:class:`Findings` by Spark (:mod:`ocppkit.toolkit.analysis.engine_spark`): the
    fleet-wide figures in Spark SQL, the per-charger KPIs in the executors.

    Args:
        spark: a SparkSession whose time zone is UTC (None: ``engine_spark.session()``,
            which spark-submit's master, or local mode, serves).
    """
    from ocppkit.toolkit.analysis import engine_spark as eng

    chargers = selected_chargers(options)
    kwargs: dict[str, Any] = {"chargers": chargers}
    if batch_size:
        kwargs["batch_size"] = batch_size
    if batch_rows:
        kwargs["batch_rows"] = batch_rows
    with eng.SparkSource(spark or eng.session(_default_master()), root, **kwargs) as src:
        scope = scope_of_source(src, options, _narrow_inventory(options, chargers))
        listed = list(scope.ports["charge_point_id"].astype(str))
        batches = src.plan(src.chargers(listed))
        tz = options.tz

        def work(k: int, batch: list[str], data: Dataset) -> tuple[_Accumulator, pd.DataFrame]:
            part = _Accumulator(scope, options)
            part.add(data, _narrow(scope, batch))
            part.scope = part.options = None  # type: ignore[assignment]  # the driver has them
            return part, start_hour_heatmap(counted_sessions(data, scope), tz)

        acc = _Accumulator(scope, options)
        heat: pd.DataFrame | None = None
        for part, part_heat in src.map_batches(work):
            acc.merge(part)
            heat = part_heat if heat is None else heat + part_heat
        return _fleet_wide(src, acc, heat, options, "spark", len(batches))


# What a period counts, in SQL (the rule of :func:`in_period`): the column a row counts by.
COUNTED_BY = {
    "sessions": "coalesce(start_time, stop_time)",
    "faults": "start_time",
    "frames": "timestamp",
}


def counted_sql(src: Any, table: str, period: tuple[pd.Timestamp, pd.Timestamp] | None) -> str:
    """A FROM clause over the rows of ``table`` that ``period`` counts (:func:`in_period`)."""
    if period is None or table not in COUNTED_BY:
        return str(src.scan(table))
    column = COUNTED_BY[table]
    a, b = src.ts(period[0]), src.ts(period[1])
    rows = src.scan_period(table, period)  # only the partitions of the period's days
    return f"(SELECT * FROM {rows} WHERE {column} >= {a} AND {column} < {b})"


class _Counted:
    """A source whose :meth:`scan` gives only what the period counts (the fleet-wide SQL)."""

    def __init__(self, src: Any, period: tuple[pd.Timestamp, pd.Timestamp] | None) -> None:
        self._src, self._period = src, period

    def scan(self, table: str) -> str:
        return counted_sql(self._src, table, self._period)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._src, name)


def scope_of_source(src: Any, options: Options, inventory: Inventory | None) -> Scope:
    """The :class:`Scope` from a source's queries (DuckDB's :class:`Source` or Spark's
    :class:`ocppkit.toolkit.analysis.engine_spark.SparkSource`)."""
    frames = src.scope_frames()
    inv = inventory or infer_inventory(
        frames,
        src.port_sources("status_events"),
        src.port_sources("sessions"),
        src.port_sources("meter_values"),
    )
    events = src.event_period()
    if events is None:
        raise ConfigError(f"{src.root}: the dataset has no timestamped event")
    event_start, event_end = events
    span = src.frame_span()
    covered = False
    if span is not None and event_end > event_start:
        overlap = min(event_end, span[1]) - max(event_start, span[0])
        covered = bool(overlap >= 0.5 * (event_end - event_start))
    judged = span is not None and (event_end <= event_start or covered)
    windows = src.frame_windows() if judged else src.event_windows()
    if windows.empty and options.period is None:
        raise ConfigError(f"{src.root}: no timestamped frame to take the period from")

    def offline_of(
        thresholds: dict[str, pd.Timedelta], seen: pd.DataFrame, end: pd.Timestamp
    ) -> dict[str, list[tuple[pd.Timestamp, pd.Timestamp]]]:
        last = {str(cp): seen.loc[cp, "last"] if cp in seen.index else end for cp in thresholds}
        first = {str(cp): seen.loc[cp, "first"] for cp in thresholds if cp in seen.index}
        windows: dict[str, list[tuple[pd.Timestamp, pd.Timestamp]]]
        windows = src.offline_windows(thresholds, last, first)
        return windows

    return assemble_scope(
        inv,
        windows,
        judged,
        lambda chargers: offline_thresholds(frames, chargers, options.offline_after),
        offline_of,
        period=options.period,
        exclusions=options.exclusions,
    )


def _duck_fleet(src: Any) -> tuple[dict[str, float], int]:
    row = src.one(
        f"""SELECT count(*), count(DISTINCT charge_point_id), sum(energy_wh / 1000.0),
            avg(energy_wh / 1000.0), avg(duration_s / 3600.0), sum(charging_s / 3600.0),
            sum(idle_s / 3600.0),
            avg(CASE WHEN charging_s > 0 THEN energy_wh / 1000.0 / (charging_s / 3600.0) END),
            max(max_power_w / 1000.0)
        FROM {src.scan("sessions")}"""
    )
    n = int(row[0])

    def num(value: Any, empty: float = 0.0) -> float:
        if n == 0:
            return empty
        return float("nan") if value is None else float(value)

    return {
        "sessions": n,
        "chargers": int(row[1]),
        "energy_kwh": float(row[2] or 0.0),
        "mean_energy_kwh": num(row[3]),
        "mean_duration_h": num(row[4]),
        "charging_h": float(row[5] or 0.0),
        "idle_h": float(row[6] or 0.0),
        "mean_power_kw": num(row[7]),
        "peak_power_kw": num(row[8]),
    }, n


def _duck_kpis_head(src: Any) -> pd.DataFrame:
    head = src.df(
        f"""SELECT * FROM {src.scan("sessions")}
        ORDER BY start_time NULLS LAST, {src.order} LIMIT {TABLE_ROWS}"""
    )
    return session_kpis(head.drop(columns=[*src.extra, "date"], errors="ignore"))


def _duck_hist(src: Any, expression: str) -> tuple[np.ndarray, np.ndarray]:
    """``np.histogram`` (20 equal bins from min to max) counted by SQL."""
    values = f"SELECT {expression} AS v FROM {src.scan('sessions')}"
    finite = src.finite("v")
    low, high = src.one(f"SELECT min(v), max(v) FROM ({values}) WHERE {finite}")
    if low is None:
        return np.zeros(0), np.zeros(0)
    edges = np.histogram_bin_edges(np.array([low, high], dtype=float), bins=HIST_BINS)
    counts = np.zeros(HIST_BINS)
    e0, width = float(edges[0]), float(edges[-1] - edges[0])
    rows = src.df(
        f"""SELECT least({HIST_BINS - 1}, greatest(0,
                CAST(floor((v - {e0!r}) / {width!r} * {HIST_BINS}) AS BIGINT))) AS bin,
                count(*) AS n
            FROM ({values}) WHERE {finite} GROUP BY 1"""
    ).itertuples(index=False)
    for b, c in rows:
        counts[int(b)] += c
    return counts, edges


def _duck_callerrors(src: Any) -> pd.DataFrame:
    table = src.df(
        f"""SELECT matched_action AS action, count(*) AS answered,
            sum(CASE WHEN message_type = 4 THEN 1 ELSE 0 END) AS callerrors
        FROM {src.scan("frames")}
        WHERE message_type IN (3, 4) AND matched_action IS NOT NULL
        GROUP BY matched_action ORDER BY matched_action"""
    )
    table["answered"] = table["answered"].astype(int)
    table["callerrors"] = table["callerrors"].astype(int)
    table["error_pct"] = 100.0 * table["callerrors"] / table["answered"]
    return table.sort_values("callerrors", ascending=False, kind="stable").reset_index(drop=True)


def findings(
    dataset: str | Path | Dataset, options: Options, engine: str = "pandas", **duck: Any
) -> Findings:
    """:class:`Findings` by the chosen engine (:data:`ENGINES`)."""
    if engine == "pandas":
        return pandas_findings(dataset, options)
    if engine == "duckdb":
        if isinstance(dataset, Dataset):
            raise ConfigError("the duckdb engine reads a dataset directory, not a loaded Dataset")
        return duckdb_findings(dataset, options, **duck)
    if engine == "spark":
        if isinstance(dataset, Dataset):
            raise ConfigError("the spark engine reads a dataset directory, not a loaded Dataset")
        return spark_findings(dataset, options, **duck)
    raise ConfigError(f"engine must be one of {ENGINES}, not {engine!r}")
