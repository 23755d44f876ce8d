"""The dataset layout reads as it is in DuckDB, pandas and pyarrow.dataset.

Spark is not installed on these machines (a JVM plus pyspark is far beyond
the test budget); the layout is plain hive-partitioned Parquet, which is
what ``spark.read.parquet(DATASET + "/frames")`` reads, and DuckDB's hive
reader stands in for it here.
"""

from __future__ import annotations

from pathlib import Path

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
        f"SELECT sum(energy_wh) FROM read_parquet('{path}/sessions/*.parquet')"
    ).fetchone()
    assert energy is not None and energy[0] > 0


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
