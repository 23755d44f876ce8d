"""The dataset layout reads as it is in DuckDB, pandas, pyarrow.dataset and Spark.

Spark runs for real, in local mode (pyspark from PyPI, the ``spark`` extra;
Java 17 from Debian, in .ci/run's ``need`` list), on the session-wide
``spark`` fixture (tests/conftest.py), which skips only where no Java runtime
exists.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from ocppkit.toolkit.ingest import IngestOptions, IngestSummary, ingest, model
from tests.ingest import fleet as F


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, IngestSummary]:
    root = tmp_path_factory.mktemp("layout")
    fleet = F.make_fleet(seed=2, chargers=2, sessions_per_evse=2)
    # Two days, so the frames and meter_values tables have two partitions.
    late = [F.TruthSession(**{**s.__dict__, "start": s.start.replace(day=3)}) for s in fleet]
    log = F.write(fleet + late, "1.6", "journal", root / "log.jsonl")
    return root / "ds", ingest([log], root / "ds", IngestOptions(workers=1))


def test_duckdb_reads_every_table_with_hive_partitions(dataset: tuple[Path, IngestSummary]) -> None:
    duckdb = pytest.importorskip("duckdb")
    path, summary = dataset
    con = duckdb.connect()
    for name, (_schema, partitioned) in model.TABLES.items():
        glob = f"{path}/{name}/**/*.parquet" if partitioned else f"{path}/{name}/*.parquet"
        count = con.execute(
            f"SELECT count(*) FROM read_parquet('{glob}', hive_partitioning={bool(partitioned)})"
        ).fetchone()
        assert count is not None and count[0] == summary.rows[name], name
    days = con.execute(
        f"SELECT date, count(*) FROM read_parquet('{path}/frames/**/*.parquet', "
        "hive_partitioning=true) GROUP BY date ORDER BY date"
    ).fetchall()
    assert [str(d) for d, _ in days] == ["2026-03-02", "2026-03-03"]
    energy = con.execute(
        f"SELECT sum(energy_wh) FROM read_parquet('{path}/sessions/date=2026-03-03/*.parquet')"
    ).fetchone()
    assert energy is not None and energy[0] > 0


def test_each_row_lies_in_the_partition_of_its_day(dataset: tuple[Path, IngestSummary]) -> None:
    path, _ = dataset
    for name, (_schema, columns) in model.TABLES.items():
        if not columns:
            assert not any(p.is_dir() for p in (path / name).iterdir()), name
            continue
        table = ds.dataset(path / name, partitioning="hive").to_table().to_pandas()
        stamp = table[columns[0]]
        for column in columns[1:]:
            stamp = stamp.fillna(table[column])
        days = stamp.dt.strftime("%Y-%m-%d").fillna(model.UNKNOWN_PARTITION)
        assert (days == table[model.PARTITION_COLUMN].astype(str)).all(), name
        if name != "faults":  # this fleet has none
            assert set(days) == {"2026-03-02", "2026-03-03"}, name


def test_pandas_and_pyarrow_dataset_read_the_directories(
    dataset: tuple[Path, IngestSummary],
) -> None:
    path, summary = dataset
    frames = pd.read_parquet(path / "frames")
    assert len(frames) == summary.frames
    assert set(frames["date"].astype(str)) == {"2026-03-02", "2026-03-03"}
    meters = ds.dataset(path / "meter_values", partitioning="hive").to_table()
    assert meters.num_rows == summary.rows["meter_values"]
    assert str(meters.schema.field("timestamp").type) == "timestamp[us, tz=UTC]"


def test_files_carry_the_documented_schema(dataset: tuple[Path, IngestSummary]) -> None:
    path, _ = dataset
    for name, (schema, _partitioned) in model.TABLES.items():
        for file in (path / name).rglob("*.parquet"):
            got = pq.read_schema(file)
            assert got.names == schema.names, file
            for field in got:
                assert field.metadata and b"description" in field.metadata, (name, field.name)
    assert "| energy_wh | double | Wh |" in model.describe()


@pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas")
@pytest.mark.xdist_group("spark")  # the worker that holds the SparkSession
def test_spark_reads_every_table_with_its_partitions_and_types(
    dataset: tuple[Path, IngestSummary], spark: Any
) -> None:
    path, summary = dataset
    for name, (schema, partitioned) in model.TABLES.items():
        frame = spark.read.parquet(str(path / name))
        assert frame.count() == summary.rows[name], name
        expected = [*schema.names, *([model.PARTITION_COLUMN] if partitioned else [])]
        assert frame.columns == expected, name
    frames = spark.read.parquet(str(path / "frames"))
    days = [str(r[0]) for r in frames.select("date").distinct().orderBy("date").collect()]
    assert days == ["2026-03-02", "2026-03-03"]
    types = dict(frames.dtypes)
    assert types["timestamp"] == "timestamp" and types["line"] == "bigint"
    sessions = spark.read.parquet(str(path / "sessions"))
    energy = sessions.groupBy().sum("energy_wh").collect()[0][0]
    assert energy == pd.read_parquet(path / "sessions")["energy_wh"].sum()
