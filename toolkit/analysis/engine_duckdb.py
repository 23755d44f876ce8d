"""The analysis engine for datasets larger than memory: DuckDB over the Parquet files.

The pandas functions of :mod:`ocppkit.toolkit.analysis` are the reference:
they take whole tables. This engine gets the same numbers without ever
holding a whole table:

- what spans the fleet and reads every row is SQL over
  ``read_parquet(..., hive_partitioning=true)`` and returns small frames: the
  period, each charger's first and last frame, offline windows (a window
  function over frame times), the inventory's sources (distinct ports), the
  heartbeat intervals' few frames, session totals, fault and CALLERROR
  counts;
- what follows a charger's own history (status intervals, NEVI / PCPR
  minutes, meter anomalies, ChargeX attempts, tariffs) runs the reference
  pandas functions on one *batch* of chargers at a time
  (:meth:`Source.batch`): DuckDB reads only those chargers' rows and only
  the columns and frames the KPIs use, so memory follows the batch size, not
  the dataset's.

A batch of chargers is an independent slice: every such KPI is per charger
(or per port, per session), so results of batches concatenate. Before the
first batch the tables the KPIs use are *staged*: copied once, projected and
filtered, into a temporary Parquet dataset partitioned by batch number, so
each batch reads only its own files instead of scanning the dataset again.

Filter pushdown: ``chargers`` restricts every query to those chargers (a
site list becomes its chargers via the inventory), and DuckDB pushes the
filter into each Parquet scan.

Partition pruning for ``period``: a period counts what starts in it (the
README's "Period"), so the rows the KPIs read come only from the ``date``
partitions that rule needs (:meth:`Source.scan` with days: an explicit file
list, so the other partitions' files are never opened):

- sessions, faults, CALLERRORs and boots counted: the period's days;
- the batches' meter values, frames and status events: the period's days
  widened by :data:`MARGIN` (a charge attempt's events merge within minutes of
  it), through the last stop of a session started in the period (its meter
  values and reported cost come later; an open one reads to the end), and the
  frames back to the start of a session running at the period's start;
- the status in force at the start: per connector, the last status before
  it, from the earlier status partitions (one row each);
- the sessions running into the period, from earlier session partitions
  (the sessions table is one row per session);
- offline windows: the frames from each charger's last frame before the start
  (found by walking back one day partition at a time) to the end.

The scope pass (the inventory read off the logs, each charger's first and
last frame, the heartbeat settings, the chargers' clock span) still reads
every partition, but only those few columns.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from ocppkit.toolkit.analysis.chargex import CHARGE_WINDOW, START_WINDOW
from ocppkit.toolkit.analysis.dataset import RENAMED, TABLE_NAMES, Dataset
from ocppkit.translators.errors import ConfigError

EPOCH_FLOOR = "TIMESTAMPTZ '2000-01-01 00:00:00+00'"  # earlier stamps: a charger clock at 1970
DEFAULT_BATCH = 512  # chargers per batch at most
# Rows (staged meter values, status events, frames) per batch at most: a batch's pandas
# tables stay in the tens of MiB whatever the fleet's size.
DEFAULT_BATCH_ROWS = 30_000
# How far outside a period the batch KPIs read frames, meter values and status events: an
# attempt's plug-in and authorisation merge within START_WINDOW, its charging sign comes
# within CHARGE_WINDOW; twice that, for a charger clock a little off its frames' receive times.
MARGIN = 2 * (START_WINDOW + CHARGE_WINDOW)
DEFAULT_MEMORY = "256MB"  # DuckDB's own limit; it spills to the temporary directory beyond it

# Frames a batch's KPIs read (by action of the call or of the call answered); the
# calls status rows come from come along, without payload, for the frames' clock.
BATCH_ACTIONS = (
    "Authorize",
    "RemoteStartTransaction",
    "RequestStartTransaction",
    "StartTransaction",
    "TransactionEvent",
    "CostUpdated",
    "BootNotification",
)
# The meter values the batch KPIs read (anomalies, costs, the power and register figures).
METERS = "('Energy.Active.Import.Register', 'Power.Active.Import')"
# Frames the inventory and the heartbeat intervals read.
SCOPE_ACTIONS = (
    "GetConfiguration",
    "GetVariables",
    "NotifyReport",
    "BootNotification",
    "ChangeConfiguration",
    "SetVariables",
)


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _in_list(values: Sequence[str]) -> str:
    return "(" + ", ".join(_quote(v) for v in values) + ")"


def _day(t: pd.Timestamp) -> date:
    return t.tz_convert("UTC").date()  # type: ignore[no-any-return]


def _last_day(end: pd.Timestamp) -> date:
    """The last day ``[..., end)`` touches (an end at midnight: the day before)."""
    return _day(end - pd.Timedelta(microseconds=1))


class Source:
    """A dataset on disk, queried with DuckDB.

    Args:
        root: the dataset directory (``ocppkit ingest --out``).
        chargers: only these chargers (None: all).
        batch_size: chargers per batch at most.
        batch_rows: rows per batch at most (a charger with more is a batch of its own).
        memory_limit: DuckDB's memory limit (it spills to disk beyond it).
        threads: DuckDB threads (None: DuckDB's default).
        period: the report's period: the batches read only the partitions it needs
            (see module doc). None: every partition.

    Raises:
        ConfigError: ``root`` is not a dataset.
    """

    def __init__(
        self,
        root: str | Path,
        *,
        chargers: Sequence[str] | None = None,
        batch_size: int = DEFAULT_BATCH,
        batch_rows: int = DEFAULT_BATCH_ROWS,
        memory_limit: str = DEFAULT_MEMORY,
        threads: int | None = None,
        period: tuple[pd.Timestamp, pd.Timestamp] | None = None,
    ) -> None:
        import duckdb

        self.root = Path(root)
        if not self.root.is_dir():
            raise ConfigError(f"{self.root}: not a directory (expected an ocppkit dataset)")
        for name in TABLE_NAMES:
            if not (self.root / name).exists():
                raise ConfigError(f"{self.root}: no {name!r} table (is this an ocppkit dataset?)")
        self.only = sorted(set(chargers)) if chargers is not None else None
        self.batch_size = max(1, batch_size)
        self.batch_rows = max(1, batch_rows)
        self._tmp = Path(tempfile.mkdtemp(prefix="ocppkit-duck-"))
        self.con = duckdb.connect()
        self.con.execute(f"SET memory_limit = {_quote(memory_limit)}")
        self.con.execute(f"SET temp_directory = {_quote(str(self._tmp / 'spill'))}")
        self.con.execute("SET preserve_insertion_order = true")
        self.con.execute("SET TimeZone = 'UTC'")
        if threads:
            self.con.execute(f"SET threads = {int(threads)}")
        self._staged: Path | None = None
        self._batches: list[list[str]] = []
        self._selects: dict[str, str] = {}
        self.period = period
        self._files: dict[str, list[tuple[date | None, Path]]] = {}

    timestamp_type = "TIMESTAMPTZ"  # a UTC time literal's type (the session zone is UTC)
    order = "filename, file_row_number"  # columns that put rows in the files' order
    extra = ("filename", "file_row_number")  # columns scan() adds to the table's own

    @staticmethod
    def finite(v: str) -> str:
        return f"isfinite({v})"

    # -- plumbing

    def close(self) -> None:
        self.con.close()
        shutil.rmtree(self._tmp, ignore_errors=True)

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def files(self, table: str) -> list[tuple[date | None, Path]]:
        """The table's files with their ``date`` partition (None: not in a date partition)."""
        if table not in self._files:
            found = []
            for path in sorted((self.root / table).rglob("*.parquet")):
                day = None
                for part in path.relative_to(self.root / table).parts[:-1]:
                    if part.startswith("date="):
                        try:
                            day = date.fromisoformat(part[5:])
                        except ValueError:
                            day = None  # the null partition: always read
                found.append((day, path))
            self._files[table] = found
        return self._files[table]

    def scan(self, table: str, days: tuple[date | None, date | None] | None = None) -> str:
        """A FROM clause over one table's files, restricted to the chosen chargers.

        ``days``: only the partitions from the first to the second day (inclusive;
        None: open-ended), and files outside any date partition. Row order is
        the files' (by path), as the pandas loader reads them.
        """
        files = self.files(table)
        if not files:
            raise ConfigError(f"{self.root}: the {table!r} table has no file")
        where = []
        if days is None:
            listed = _quote(str(self.root / table / "**" / "*.parquet"))
        else:
            lo, hi = days
            chosen = [p for d, p in files if d is None
                      or ((lo is None or d >= lo) and (hi is None or d <= hi))]  # fmt: skip
            if not chosen:  # nothing in range: one file's schema, no row
                chosen, where = [files[0][1]], ["false"]
            listed = "[" + ", ".join(_quote(str(p)) for p in chosen) + "]"
        source = (
            f"read_parquet({listed}, hive_partitioning = true, union_by_name = true,"
            " filename = true, file_row_number = true)"
        )
        if self.only is not None and table != "quarantine":
            where.append(f"charge_point_id IN {_in_list(self.only)}")
        if not where:
            return f"(SELECT * FROM {source})"
        return f"(SELECT * FROM {source} WHERE {' AND '.join(where)})"

    def ts(self, t: pd.Timestamp) -> str:
        """A UTC time as an SQL literal."""
        return f"{self.timestamp_type} '{t.tz_convert('UTC').strftime('%Y-%m-%d %H:%M:%S.%f')}'"

    def scan_period(self, table: str, period: tuple[pd.Timestamp, pd.Timestamp]) -> str:
        """:meth:`scan` over the partitions of the days ``period`` touches."""
        return self.scan(table, (_day(period[0]), _last_day(period[1])))

    def df(self, sql: str) -> pd.DataFrame:
        """A query's (small) result as pandas, through Arrow as the pandas loader reads."""
        frame = self.con.sql(sql).to_arrow_table().to_pandas()
        for column in frame.columns:
            if isinstance(frame[column].dtype, pd.CategoricalDtype):
                frame[column] = frame[column].astype("string")
        return frame

    def one(self, sql: str) -> tuple[Any, ...]:
        row = self.con.execute(sql).fetchall()
        return tuple(row[0]) if row else ()

    # -- whole-fleet queries (one pass each, small results)

    def chargers(self, extra: Sequence[str] = ()) -> list[str]:
        """Every charger any table names (plus ``extra``, e.g. the inventory's), sorted."""
        parts = " UNION ".join(
            f"SELECT DISTINCT charge_point_id FROM {self.scan(t)}"
            for t in ("frames", "sessions", "meter_values", "status_events", "faults")
        )
        found = {
            str(r[0])
            for r in self.con.execute(
                f"SELECT charge_point_id FROM ({parts}) WHERE charge_point_id IS NOT NULL"
            ).fetchall()
        }
        found |= {str(c) for c in extra}
        if self.only is not None:
            found &= set(self.only)
        return sorted(found)

    def event_period(self) -> tuple[pd.Timestamp, pd.Timestamp] | None:
        """:attr:`Dataset.period` by SQL: the chargers' event times (>= 2000), else frames."""
        events = f"""
            SELECT start_time AS t FROM {self.scan("sessions")}
            UNION ALL SELECT stop_time FROM {self.scan("sessions")}
            UNION ALL SELECT timestamp FROM {self.scan("status_events")}
            UNION ALL SELECT timestamp FROM {self.scan("meter_values")}"""
        row = self.one(f"SELECT min(t), max(t) FROM ({events}) WHERE t >= {EPOCH_FLOOR}")
        if not row or row[0] is None:
            row = self.one(f"SELECT min(timestamp), max(timestamp) FROM {self.scan('frames')}")
        if not row or row[0] is None:
            return None
        return pd.Timestamp(row[0]).tz_convert("UTC"), pd.Timestamp(row[1]).tz_convert("UTC")

    def frame_span(self) -> tuple[pd.Timestamp, pd.Timestamp] | None:
        """First and last frame receive time (any year)."""
        row = self.one(f"SELECT min(timestamp), max(timestamp) FROM {self.scan('frames')}")
        if not row or row[0] is None:
            return None
        return pd.Timestamp(row[0]).tz_convert("UTC"), pd.Timestamp(row[1]).tz_convert("UTC")

    def frame_windows(self) -> pd.DataFrame:
        """:func:`ocppkit.toolkit.analysis.scope.charger_windows` by SQL."""
        return self.df(
            f"""SELECT charge_point_id, min(timestamp) AS first, max(timestamp) AS last
            FROM {self.scan("frames")}
            WHERE timestamp >= {EPOCH_FLOOR} AND charge_point_id IS NOT NULL
            GROUP BY charge_point_id ORDER BY charge_point_id"""
        )

    def event_windows(self) -> pd.DataFrame:
        """Per charger, first and last event time (>= 2000): the replayed-log periods."""
        return self.df(
            f"""SELECT charge_point_id, min(t) AS first, max(t) AS last FROM (
                SELECT charge_point_id, start_time AS t FROM {self.scan("sessions")}
                UNION ALL SELECT charge_point_id, stop_time FROM {self.scan("sessions")}
                UNION ALL SELECT charge_point_id, timestamp FROM {self.scan("status_events")}
                UNION ALL SELECT charge_point_id, timestamp FROM {self.scan("meter_values")})
            WHERE t >= {EPOCH_FLOOR} AND charge_point_id IS NOT NULL
            GROUP BY charge_point_id ORDER BY charge_point_id"""
        )

    def scope_frames(self) -> pd.DataFrame:
        """The few frames the inventory and heartbeat intervals read, in file order."""
        actions = _in_list(SCOPE_ACTIONS)
        return self.df(
            f"""SELECT timestamp, charge_point_id, message_type, message_id, action, payload,
                matched_action, ocpp_version
            FROM {self.scan("frames")}
            WHERE action IN {actions} OR matched_action IN {actions}
            ORDER BY filename, file_row_number"""
        )

    def port_sources(self, table: str) -> pd.DataFrame:
        """Distinct (charger, evse, connector, version) of a table: the inventory's input."""
        return self.df(
            f"""SELECT DISTINCT charge_point_id, evse_id, connector_id, ocpp_version
            FROM {self.scan(table)} ORDER BY ALL"""
        )

    def offline_windows(
        self,
        thresholds: dict[str, pd.Timedelta],
        last: dict[str, pd.Timestamp],
        first: dict[str, pd.Timestamp] | None = None,
    ) -> dict[str, list[tuple[pd.Timestamp, pd.Timestamp]]]:
        """:func:`ocppkit.toolkit.analysis.availability.offline_windows` by SQL, per charger.

        A gap is from ``threshold`` after a frame to the next frame (or the
        charger's ``last`` frame) when the two are further apart than the
        threshold. Only the gaps come back. With a :attr:`period`, only the
        gaps that reach into it are sure to come back: the frames read start at
        each charger's last frame before the period (``first``: each charger's
        first frame, to know which have one) and end with the period.
        """
        if not thresholds:
            return {}
        frames = self.scan("frames")
        if self.period is not None:
            frames = self.scan("frames", (self._walk_back(first or {}), _last_day(self.period[1])))
        table = pd.DataFrame(
            {
                "charge_point_id": list(thresholds),
                "silence_us": [int(t / pd.Timedelta(microseconds=1)) for t in thresholds.values()],
                "last_t": [last.get(cp, pd.NaT) for cp in thresholds],
            }
        )
        table["last_t"] = pd.to_datetime(table["last_t"], utc=True)
        self.con.register("_thresholds", table)
        try:
            gaps = self.df(
                f"""WITH f AS (
                    SELECT charge_point_id, timestamp AS t,
                        lead(timestamp) OVER (PARTITION BY charge_point_id
                                              ORDER BY timestamp) AS nxt,
                        bool_or(timestamp IS NULL) OVER (PARTITION BY charge_point_id) AS has_null
                    FROM {frames})
                SELECT f.charge_point_id, t + to_microseconds(th.silence_us) AS a,
                    coalesce(nxt, th.last_t) AS b
                FROM f JOIN _thresholds th USING (charge_point_id)
                WHERE t IS NOT NULL
                    AND (nxt IS NOT NULL OR NOT has_null)
                    AND coalesce(nxt, th.last_t) - t > to_microseconds(th.silence_us)
                ORDER BY f.charge_point_id, t"""
            )
        finally:
            self.con.unregister("_thresholds")
        out: dict[str, list[tuple[pd.Timestamp, pd.Timestamp]]] = {}
        for cp, a, b in gaps.itertuples(index=False):
            out.setdefault(str(cp), []).append((a, b))
        return out

    def _walk_back(self, first: dict[str, pd.Timestamp]) -> date | None:
        """The earliest day partition holding, for each charger whose first frame is before
        the period, its last frame before it (one partition at a time, newest first)."""
        assert self.period is not None
        start = self.period[0]
        wanted = {cp for cp, t in first.items() if not pd.isna(t) and t < start}
        day = _day(start)
        earlier = sorted({d for d, _ in self.files("frames") if d is not None and d < day})
        while wanted:
            found = self.con.execute(
                f"""SELECT DISTINCT charge_point_id FROM {self.scan("frames", (day, day))}
                WHERE timestamp < {self.ts(start)}"""
            ).fetchall()
            wanted -= {str(r[0]) for r in found}
            if not wanted or not earlier:
                break
            day = earlier.pop()
        return day

    def _pruned(self) -> dict[str, str]:
        """What the batches read from each table under :attr:`period` (module doc), as
        FROM clauses; without a period, every table whole."""
        if self.period is None:
            return {t: self.scan(t) for t in ("sessions", "status_events", "meter_values",
                                               "faults", "frames")}  # fmt: skip
        a, b = self.period
        lo, counted = a - MARGIN, "coalesce(start_time, stop_time)"
        row = self.one(
            f"""SELECT max(stop_time), bool_or(stop_time IS NULL) FROM
                {self.scan_period("sessions", (a, b))}
            WHERE {counted} >= {self.ts(a)} AND {counted} < {self.ts(b)}"""
        )
        reach: date | None = _day(b + MARGIN)
        if row and row[1]:
            reach = None  # a session started in the period is still open: to the end
        elif row and row[0] is not None:
            reach = max(_day(b + MARGIN), _day(pd.Timestamp(row[0]) + MARGIN))
        sessions = f"""(SELECT * FROM {self.scan("sessions", (None, _day(b + MARGIN)))}
            WHERE stop_time IS NULL OR stop_time >= {self.ts(lo)})"""
        running = self.one(f"SELECT min(start_time) FROM {sessions}")
        since = lo
        if running and running[0] is not None:
            since = min(lo, pd.Timestamp(running[0]).tz_convert("UTC") - MARGIN)
        key = "charge_point_id, evse_id, connector_id"
        status = f"""(SELECT * FROM {self.scan("status_events", (_day(lo), reach))}
                WHERE timestamp >= {self.ts(lo)} OR timestamp IS NULL
            UNION ALL BY NAME
            SELECT * FROM {self.scan("status_events", (None, _day(lo)))}
                WHERE timestamp < {self.ts(lo)}
                QUALIFY row_number() OVER (PARTITION BY {key}
                    ORDER BY timestamp DESC, filename DESC, file_row_number DESC) = 1)"""
        return {
            "sessions": sessions,
            "status_events": status,
            "meter_values": self.scan("meter_values", (_day(lo), reach)),
            "faults": self.scan_period("faults", (a, b)),
            "frames": self.scan("frames", (_day(since), reach)),
        }

    # -- batches of chargers

    def _plan(self, chargers: Sequence[str], tables: dict[str, str]) -> list[list[str]]:
        """Consecutive chargers in batches of at most ``batch_size`` chargers and
        ``batch_rows`` rows (counted per charger in one pass over ``tables``)."""
        counts = f"""SELECT charge_point_id, count(*) AS n FROM (
                SELECT charge_point_id FROM {tables["meter_values"]} WHERE measurand IN {METERS}
                UNION ALL SELECT charge_point_id FROM {tables["status_events"]}
                UNION ALL SELECT charge_point_id FROM {tables["sessions"]}
                UNION ALL SELECT charge_point_id FROM {tables["frames"]}
                    WHERE message_type = 2 AND action NOT IN ('Heartbeat', 'MeterValues'))
            GROUP BY charge_point_id"""
        rows = {str(cp): int(n) for cp, n in self.con.execute(counts).fetchall()}
        batches: list[list[str]] = []
        size = 0
        for cp in chargers:
            n = rows.get(cp, 0)
            if not batches or len(batches[-1]) >= self.batch_size or size + n > self.batch_rows:
                if not batches or batches[-1]:
                    batches.append([])
                size = 0
            batches[-1].append(cp)
            size += n
        return batches

    def stage(self, chargers: Sequence[str]) -> None:
        """Copy what the batches read into a temporary dataset partitioned by batch.

        One pass over each table; afterwards :meth:`batch` reads one batch's files.
        """
        tables = self._pruned()
        self._batches = self._plan(chargers, tables)
        mapping = pd.DataFrame(
            [(cp, k) for k, batch in enumerate(self._batches) for cp in batch],
            columns=["charge_point_id", "_batch"],
        )
        self.con.register("_batch_of", mapping)
        staged = self._tmp / "staged"
        staged.mkdir(parents=True, exist_ok=True)
        actions = _in_list(BATCH_ACTIONS)
        found = self.con.execute(
            f"SELECT DISTINCT source_action FROM {tables['status_events']}"
            " WHERE source_action IS NOT NULL"
        ).fetchall()
        carriers = _in_list([str(r[0]) for r in found] or [""])
        selects = {
            "sessions": f"SELECT * FROM {tables['sessions']}",
            "status_events": f"SELECT * FROM {tables['status_events']}",
            "meter_values": f"""SELECT timestamp, charge_point_id, evse_id, connector_id,
                    transaction_id, measurand, phase, value, filename, file_row_number
                FROM {tables["meter_values"]}
                WHERE measurand IN {METERS}""",
            "faults": f"SELECT * FROM {tables['faults']}",
            # The KPIs' frames, and the frames status rows came from (the frames' clock
            # of ChargeX: their receive times, not their payloads).
            "frames": f"""SELECT timestamp, charge_point_id, message_type, message_id, action,
                    CASE WHEN action IN {actions} OR matched_action IN {actions} THEN payload
                    END AS payload,
                    matched_action, ocpp_version, source_file, line, filename, file_row_number
                FROM {tables["frames"]}
                WHERE action IN {actions} OR matched_action IN {actions}
                    OR (message_type = 2 AND action IN {carriers})""",
        }
        self._selects = selects
        for table, select in selects.items():
            target = staged / table
            self.con.execute(
                f"""COPY (SELECT q.* EXCLUDE (filename, file_row_number),
                        q.filename AS _file, q.file_row_number AS _rowno, b._batch
                    FROM ({select}) q JOIN _batch_of b USING (charge_point_id))
                TO {_quote(str(target))} (FORMAT parquet, PARTITION_BY (_batch),
                    ROW_GROUP_SIZE 16384,
                    WRITE_PARTITION_COLUMNS false, OVERWRITE_OR_IGNORE true)"""
            )
        self.con.unregister("_batch_of")
        self._staged = staged

    def batches(self) -> Iterator[tuple[list[str], Dataset]]:
        """Each batch's chargers and their rows as a :class:`Dataset` (after :meth:`stage`).

        The batch's ``frames`` hold only the frames the batch KPIs read
        (:data:`BATCH_ACTIONS`), and the calls status rows came from (without
        their payloads: the ChargeX frames' clock needs their receive times).
        """
        if self._staged is None:
            raise RuntimeError("stage() first")
        for k, chargers in enumerate(self._batches):
            yield chargers, self._load_batch(k)

    def _load_batch(self, k: int) -> Dataset:
        assert self._staged is not None
        tables: dict[str, pd.DataFrame] = {}
        for name in ("sessions", "status_events", "meter_values", "faults", "frames"):
            folder = self._staged / name / f"_batch={k}"
            if folder.exists():
                sql = f"""SELECT * EXCLUDE (_file, _rowno) FROM read_parquet(
                    {_quote(str(folder / "*.parquet"))}, hive_partitioning = false)
                    ORDER BY _file, _rowno"""
            else:
                sql = f"""SELECT * EXCLUDE (filename, file_row_number)
                    FROM ({self._selects[name]}) LIMIT 0"""
            tables[name] = self.df(sql).rename(columns=RENAMED)
        quarantine = pd.DataFrame(columns=["source_file", "line", "reason", "text"])
        return Dataset(root=self.root, quarantine=quarantine, **tables)
