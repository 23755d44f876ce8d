"""The analysis engine for fleets beyond one machine: PySpark over the same Parquet dataset.

It computes the :class:`ocppkit.toolkit.analysis.findings.Findings` the
pandas and DuckDB engines compute, with the same rules:

- what spans the fleet (the period, each charger's first and last frame,
  offline windows, the inventory's sources, session totals, histograms,
  fault and CALLERROR counts) is Spark SQL over the dataset's tables, the
  same queries as :mod:`ocppkit.toolkit.analysis.engine_duckdb`'s;
- what follows a charger's own history (status intervals, NEVI / PCPR
  minutes, meter anomalies, ChargeX attempts, tariffs, reboots) runs the
  reference pandas functions in the Spark *executors*, one batch of chargers
  per group (``groupBy(batch).applyInArrow``): each executor gets only its
  batch's rows, only the columns and frames the KPIs use, and sends back the
  batch's small per-port tables, which the driver concatenates
  (:meth:`ocppkit.toolkit.analysis.findings.Accumulator.merge`).

So one rule is written once (the pandas functions) and Spark distributes
it; nothing per charger is re-implemented in Spark SQL, where it could drift.
The executors need ocppkit installed (or shipped with ``--py-files``) and
the dataset on storage every node reads (HDFS, S3, a shared file system);
see the README, "Spark".
"""

from __future__ import annotations

import pickle
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa

from ocppkit.toolkit.analysis.dataset import RENAMED, TABLE_NAMES, Dataset
from ocppkit.toolkit.analysis.engine_duckdb import (
    BATCH_ACTIONS,
    DEFAULT_BATCH,
    DEFAULT_BATCH_ROWS,
    METERS,
    SCOPE_ACTIONS,
    _in_list,
)
from ocppkit.translators.errors import ConfigError

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

EPOCH_FLOOR = "TIMESTAMP '2000-01-01 00:00:00'"  # the session time zone is UTC
ORDER = "_file, _rowno"  # the files' row order (by path, then within the file)
BATCH_TABLES = ("sessions", "status_events", "meter_values", "faults", "frames")


def session(master: str | None = None, config: dict[str, str] | None = None) -> SparkSession:
    """A SparkSession set up for the engine (UTC, Arrow); ``master`` e.g. ``local[2]``
    (None: what spark-submit or the environment gives); ``config``: more settings."""
    import os
    import shutil
    import sys

    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise ConfigError("the spark engine needs pyspark: pip install 'ocppkit[spark]'") from None
    if master and master.startswith("local") and shutil.which("java") is None:
        raise ConfigError("the spark engine needs a Java 17 runtime (e.g. openjdk-17-jre-headless)")
    # Local mode's Python workers: this interpreter (its ocppkit, pandas, pyarrow),
    # unless the environment names another (on a cluster, spark-submit's).
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.appName("ocppkit-report")
    if master:
        builder = builder.master(master)
    for key, value in (config or {}).items():
        builder = builder.config(key, value)
    return (
        builder.config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .getOrCreate()
    )


class SparkSource:
    """A dataset read by Spark; the methods :func:`findings.scope_of_source` and the
    fleet-wide figures use (the same as :class:`engine_duckdb.Source`'s).

    Args:
        spark: the session (its time zone must be UTC: :func:`session` sets it).
        root: the dataset directory or URL (``s3a://bucket/dataset``) every node reads.
        chargers: only these chargers (None: all).
        batch_size, batch_rows: chargers and rows per executor batch at most.
    """

    def __init__(
        self,
        spark: SparkSession,
        root: str | Path,
        *,
        chargers: Sequence[str] | None = None,
        batch_size: int = DEFAULT_BATCH,
        batch_rows: int = DEFAULT_BATCH_ROWS,
    ) -> None:
        from pyspark.sql import functions as F

        if spark.conf.get("spark.sql.session.timeZone") != "UTC":
            raise ConfigError("the spark engine needs spark.sql.session.timeZone = UTC")
        self.spark = spark
        # A local path as a Path (as the other engines give it), a URL (s3a://...) as text.
        self.root: Any = Path(root) if "://" not in str(root) else str(root)
        self.url = str(root)
        self.only = sorted(set(chargers)) if chargers is not None else None
        self.batch_size = max(1, batch_size)
        self.batch_rows = max(1, batch_rows)
        self._batches: list[list[str]] = []
        self.tables: dict[str, DataFrame] = {}
        for name in TABLE_NAMES:
            try:
                frame = spark.read.parquet(f"{self.url}/{name}")
            except Exception as exc:  # AnalysisException: no such path / no files
                raise ConfigError(
                    f"{self.url}: no {name!r} table ({exc.__class__.__name__})"
                ) from None
            frame = frame.withColumn("_file", F.input_file_name()).withColumn(
                "_rowno", F.monotonically_increasing_id()
            )
            if self.only is not None and name != "quarantine":
                frame = frame.where(F.col("charge_point_id").isin(self.only))
            self.tables[name] = frame
            frame.createOrReplaceTempView(f"ocppkit_{name}")

    def close(self) -> None:
        for name in TABLE_NAMES:
            self.spark.catalog.dropTempView(f"ocppkit_{name}")

    def __enter__(self) -> SparkSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    timestamp_type = "TIMESTAMP"  # a UTC time literal's type (the session zone is UTC)
    order = ORDER  # columns that put rows in the files' order
    extra = ("_file", "_rowno")  # columns scan() adds to the table's own

    @staticmethod
    def finite(v: str) -> str:
        return f"({v} IS NOT NULL AND NOT isnan({v}) AND abs({v}) != double('infinity'))"

    def scan(self, table: str) -> str:
        """The table's view name, for Spark SQL."""
        return f"ocppkit_{table}"

    def ts(self, t: pd.Timestamp) -> str:
        """A UTC time as an SQL literal."""
        return f"{self.timestamp_type} '{t.tz_convert('UTC').strftime('%Y-%m-%d %H:%M:%S.%f')}'"

    def scan_period(self, table: str, period: tuple[pd.Timestamp, pd.Timestamp]) -> str:
        """The table's rows in the ``date`` partitions the period's days touch (and in
        the null partition): a partition filter Spark applies before reading files."""
        lo = period[0].tz_convert("UTC").date()
        hi = (period[1] - pd.Timedelta(microseconds=1)).tz_convert("UTC").date()
        return (
            f"(SELECT * FROM {self.scan(table)} WHERE date IS NULL"
            f" OR date BETWEEN DATE '{lo.isoformat()}' AND DATE '{hi.isoformat()}')"
        )

    def df(self, sql: str) -> pd.DataFrame:
        """A query's (small) result as pandas, through Arrow as the pandas loader reads."""
        return _pandas(self.spark.sql(sql).toArrow())

    def one(self, sql: str) -> tuple[Any, ...]:
        rows = self.spark.sql(sql).collect()
        return tuple(rows[0]) if rows else ()

    # -- whole-fleet queries (as engine_duckdb.Source's)

    def chargers(self, extra: Sequence[str] = ()) -> list[str]:
        parts = " UNION ".join(
            f"SELECT DISTINCT charge_point_id FROM {self.scan(t)}"
            for t in ("frames", "sessions", "meter_values", "status_events", "faults")
        )
        found = {
            str(r[0])
            for r in self.spark.sql(
                f"SELECT charge_point_id FROM ({parts}) WHERE charge_point_id IS NOT NULL"
            ).collect()
        }
        found |= {str(c) for c in extra}
        if self.only is not None:
            found &= set(self.only)
        return sorted(found)

    def _span(self, sql: str) -> tuple[pd.Timestamp, pd.Timestamp] | None:
        row = self.df(sql)
        if row.empty or pd.isna(row.iloc[0, 0]):
            return None
        return _utc(row.iloc[0, 0]), _utc(row.iloc[0, 1])

    def event_period(self) -> tuple[pd.Timestamp, pd.Timestamp] | None:
        s, st, m = self.scan("sessions"), self.scan("status_events"), self.scan("meter_values")
        events = f"""SELECT start_time AS t FROM {s} UNION ALL SELECT stop_time FROM {s}
            UNION ALL SELECT timestamp FROM {st} UNION ALL SELECT timestamp FROM {m}"""
        got = self._span(f"SELECT min(t), max(t) FROM ({events}) WHERE t >= {EPOCH_FLOOR}")
        return got or self.frame_span()

    def frame_span(self) -> tuple[pd.Timestamp, pd.Timestamp] | None:
        return self._span(f"SELECT min(timestamp), max(timestamp) FROM {self.scan('frames')}")

    def frame_windows(self) -> pd.DataFrame:
        return self.df(
            f"""SELECT charge_point_id, min(timestamp) AS first, max(timestamp) AS last
            FROM {self.scan("frames")}
            WHERE timestamp >= {EPOCH_FLOOR} AND charge_point_id IS NOT NULL
            GROUP BY charge_point_id ORDER BY charge_point_id"""
        )

    def event_windows(self) -> pd.DataFrame:
        s, st, m = self.scan("sessions"), self.scan("status_events"), self.scan("meter_values")
        return self.df(
            f"""SELECT charge_point_id, min(t) AS first, max(t) AS last FROM (
                SELECT charge_point_id, start_time AS t FROM {s}
                UNION ALL SELECT charge_point_id, stop_time FROM {s}
                UNION ALL SELECT charge_point_id, timestamp FROM {st}
                UNION ALL SELECT charge_point_id, timestamp FROM {m})
            WHERE t >= {EPOCH_FLOOR} AND charge_point_id IS NOT NULL
            GROUP BY charge_point_id ORDER BY charge_point_id"""
        )

    def scope_frames(self) -> pd.DataFrame:
        actions = _in_list(SCOPE_ACTIONS)
        return self.df(
            f"""SELECT timestamp, charge_point_id, message_type, message_id, action, payload,
                matched_action, ocpp_version
            FROM {self.scan("frames")}
            WHERE action IN {actions} OR matched_action IN {actions}
            ORDER BY {ORDER}"""
        )

    def port_sources(self, table: str) -> pd.DataFrame:
        keys = "charge_point_id, evse_id, connector_id, ocpp_version"
        order = ", ".join(f"{k} NULLS LAST" for k in keys.split(", "))
        return self.df(f"SELECT DISTINCT {keys} FROM {self.scan(table)} ORDER BY {order}")

    def offline_windows(
        self,
        thresholds: dict[str, pd.Timedelta],
        last: dict[str, pd.Timestamp],
        first: dict[str, pd.Timestamp] | None = None,
    ) -> dict[str, list[tuple[pd.Timestamp, pd.Timestamp]]]:
        """:meth:`engine_duckdb.Source.offline_windows` in Spark SQL (microseconds; every
        partition: ``first`` is not needed)."""
        if not thresholds:
            return {}
        rows = [
            (cp, int(t / pd.Timedelta(microseconds=1)),
             None if pd.isna(last.get(cp, pd.NaT)) else _micros(last[cp]))
            for cp, t in thresholds.items()
        ]  # fmt: skip
        self.spark.createDataFrame(
            rows, "charge_point_id string, silence_us bigint, last_us bigint"
        ).createOrReplaceTempView("ocppkit_thresholds")
        gaps = self.spark.sql(
            f"""WITH f AS (
                SELECT charge_point_id, unix_micros(timestamp) AS t,
                    lead(unix_micros(timestamp)) OVER (PARTITION BY charge_point_id
                                                       ORDER BY timestamp) AS nxt,
                    bool_or(timestamp IS NULL) OVER (PARTITION BY charge_point_id) AS has_null
                FROM {self.scan("frames")})
            SELECT f.charge_point_id, t + th.silence_us AS a, coalesce(nxt, th.last_us) AS b
            FROM f JOIN ocppkit_thresholds th ON f.charge_point_id = th.charge_point_id
            WHERE t IS NOT NULL
                AND (nxt IS NOT NULL OR NOT has_null)
                AND coalesce(nxt, th.last_us) - t > th.silence_us
            ORDER BY f.charge_point_id, t"""
        ).collect()
        self.spark.catalog.dropTempView("ocppkit_thresholds")
        out: dict[str, list[tuple[pd.Timestamp, pd.Timestamp]]] = {}
        for cp, a, b in gaps:
            out.setdefault(str(cp), []).append(
                (pd.Timestamp(a, unit="us", tz="UTC"), pd.Timestamp(b, unit="us", tz="UTC"))
            )
        return out

    # -- batches of chargers, in the executors

    def plan(self, chargers: Sequence[str]) -> list[list[str]]:
        """:meth:`engine_duckdb.Source._plan`: consecutive chargers, at most
        ``batch_size`` chargers and ``batch_rows`` rows a batch."""
        counts = f"""SELECT charge_point_id, count(*) AS n FROM (
                SELECT charge_point_id FROM {self.scan("meter_values")} WHERE measurand IN {METERS}
                UNION ALL SELECT charge_point_id FROM {self.scan("status_events")}
                UNION ALL SELECT charge_point_id FROM {self.scan("sessions")}
                UNION ALL SELECT charge_point_id FROM {self.scan("frames")}
                    WHERE message_type = 2 AND action NOT IN ('Heartbeat', 'MeterValues'))
            GROUP BY charge_point_id"""
        rows = {str(cp): int(n) for cp, n in self.spark.sql(counts).collect()}
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
        self._batches = batches
        return batches

    def _selects(self) -> dict[str, str]:
        """What each batch reads, per table (engine_duckdb.Source.stage's selects)."""
        actions = _in_list(BATCH_ACTIONS)
        found = self.spark.sql(
            f"SELECT DISTINCT source_action FROM {self.scan('status_events')}"
            " WHERE source_action IS NOT NULL"
        ).collect()
        carriers = _in_list([str(r[0]) for r in found] or [""])
        return {
            "sessions": f"SELECT * FROM {self.scan('sessions')}",
            "status_events": f"SELECT * FROM {self.scan('status_events')}",
            "meter_values": f"""SELECT timestamp, charge_point_id, evse_id, connector_id,
                    transaction_id, measurand, phase, value, _file, _rowno
                FROM {self.scan("meter_values")} WHERE measurand IN {METERS}""",
            "faults": f"SELECT * FROM {self.scan('faults')}",
            "frames": f"""SELECT timestamp, charge_point_id, message_type, message_id, action,
                    CASE WHEN action IN {actions} OR matched_action IN {actions} THEN payload
                    END AS payload,
                    matched_action, ocpp_version, source_file, line, _file, _rowno
                FROM {self.scan("frames")}
                WHERE action IN {actions} OR matched_action IN {actions}
                    OR (message_type = 2 AND action IN {carriers})""",
        }

    def map_batches(self, work: Any) -> list[Any]:
        """``work(k, chargers, dataset)`` run in the executors for each batch (after
        :meth:`plan`); the results, in batch order.

        The five tables' rows go to their batch's group in one shuffle
        (a union by column name, each row tagged with its table); an executor
        splits its group back into tables, in file order, with the dataset's
        own column types.
        """
        from pyspark.sql import functions as F

        mapping = self.spark.createDataFrame(
            [(cp, k) for k, batch in enumerate(self._batches) for cp in batch],
            "charge_point_id string, _batch int",
        )
        parts = []
        schemas: dict[str, pa.Schema] = {}
        for name, select in self._selects().items():
            frame = self.spark.sql(select)
            frame = frame.drop(*[c for c in frame.columns if c == "date"])
            schemas[name] = _arrow_schema(frame.drop("_file", "_rowno"))
            parts.append(frame.join(mapping, "charge_point_id").withColumn("_table", F.lit(name)))
        union = parts[0]
        for part in parts[1:]:
            union = union.unionByName(part, allowMissingColumns=True)
        batches = self._batches
        root = self.root

        def run(group: pa.Table) -> pa.Table:
            k = group.column("_batch")[0].as_py()
            data = _split(group, schemas, root)
            result = work(k, batches[k], data)
            return pa.table(
                {
                    "_batch": pa.array([k], pa.int32()),
                    "result": pa.array([pickle.dumps(result)], pa.binary()),
                }
            )

        rows = union.groupBy("_batch").applyInArrow(run, "_batch int, result binary").collect()
        got = {int(r["_batch"]): pickle.loads(r["result"]) for r in rows}  # our own results
        # A batch without a row in any table (an inventory charger that sent nothing)
        # has no group: it runs here, on empty tables.
        empty = _split(None, schemas, root)
        return [got[k] if k in got else work(k, b, empty) for k, b in enumerate(batches)]


def _arrow_schema(frame: DataFrame) -> pa.Schema:
    """The Arrow schema Spark gives ``frame``'s columns (no job runs)."""
    from pyspark.sql.pandas.types import to_arrow_schema

    return to_arrow_schema(frame.schema, timezone="UTC")


def _split(group: pa.Table | None, schemas: dict[str, pa.Schema], root: Any) -> Dataset:
    """One batch's union rows back into a :class:`Dataset`, each table in file order."""
    import pyarrow.compute as pc

    tables: dict[str, pd.DataFrame] = {}
    for name in BATCH_TABLES:
        schema = schemas[name]
        if group is None:
            part = schema.empty_table()
        else:
            rows = group.filter(pc.equal(group.column("_table"), name))
            rows = rows.sort_by([("_file", "ascending"), ("_rowno", "ascending")])
            part = pa.table([rows.column(f.name).cast(f.type) for f in schema], schema=schema)
        tables[name] = _pandas(part).rename(columns=RENAMED)
    quarantine = pd.DataFrame(columns=["source_file", "line", "reason", "text"])
    return Dataset(root=Path(str(root)), quarantine=quarantine, **tables)


def _pandas(table: pa.Table) -> pd.DataFrame:
    frame = table.to_pandas()
    for column in frame.columns:
        if isinstance(frame[column].dtype, pd.CategoricalDtype):
            frame[column] = frame[column].astype("string")
    return frame


def _utc(value: Any) -> pd.Timestamp:
    stamp = pd.Timestamp(value)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def _micros(stamp: pd.Timestamp) -> int:
    return int((_utc(stamp) - pd.Timestamp(0, tz="UTC")) / pd.Timedelta(microseconds=1))
