"""Incremental Parquet writing: one writer per table (and per day partition).

Batches are buffered per partition and written as row groups of about
:data:`ROW_GROUP_ROWS` rows, so memory stays bounded whatever the log's size
and readers get row groups large enough to scan fast. Partitioned tables
follow hive layout (``date=YYYY-MM-DD``, the UTC day of the first non-null of
the table's partition columns, :data:`ocppkit.toolkit.ingest.model.TABLES`);
a writer only ever creates files (``part-PART-NNNNN.parquet``), so runs that
append to a dataset never change each other's. A partition's file is closed when
more than :data:`MAX_OPEN` are open (a log that jumps between days gets more,
smaller files, never unbounded open handles).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ocppkit.toolkit.ingest.model import PARTITION_COLUMN, TABLES, UNKNOWN_PARTITION

ROW_GROUP_ROWS = 128 * 1024
MAX_OPEN = 8
US_PER_DAY = 86_400_000_000


class TableWriter:
    """Writes one table of the dataset.

    Args:
        root: the dataset directory.
        name: a key of :data:`ocppkit.toolkit.ingest.model.TABLES`.
        part: a name for this run's files (so runs never overwrite each other's).
    """

    def __init__(self, root: Path, name: str, part: str = "0") -> None:
        self.schema, self.partition_by = TABLES[name]
        self.dir = root / name
        self.part = part
        self.rows = 0
        self._buffers: dict[str, list[pa.RecordBatch | pa.Table]] = {}
        self._buffered: dict[str, int] = {}
        self._writers: dict[str, pq.ParquetWriter] = {}
        self._files = 0

    def write(self, batch: pa.RecordBatch | pa.Table) -> None:
        if batch.num_rows == 0:
            return
        self.rows += batch.num_rows
        if not self.partition_by:
            self._buffer("", batch)
            return
        columns = [batch.column(c) for c in self.partition_by]
        stamps = columns[0] if len(columns) == 1 else pc.coalesce(*columns)
        days = pc.divide(stamps.cast(pa.int64()), US_PER_DAY)
        values = days.to_numpy(zero_copy_only=False)
        values = np.where(np.isnan(values.astype(float)), -(2**62), values).astype(np.int64)
        unique = np.unique(values)
        if len(unique) == 1:
            self._buffer(_label(int(unique[0])), batch)
            return
        for day in unique:
            mask = pa.array(values == day)
            self._buffer(_label(int(day)), batch.filter(mask))

    def _buffer(self, label: str, batch: pa.RecordBatch | pa.Table) -> None:
        self._buffers.setdefault(label, []).append(batch)
        self._buffered[label] = self._buffered.get(label, 0) + batch.num_rows
        if self._buffered[label] >= ROW_GROUP_ROWS:
            self._flush(label)
        elif sum(self._buffered.values()) >= ROW_GROUP_ROWS:
            # Rows spread over several days (a log moving on to the next day, or
            # interleaved chargers): write them all rather than hold a buffer per day.
            for other in list(self._buffers):
                self._flush(other)

    def _flush(self, label: str) -> None:
        batches = self._buffers.pop(label, [])
        self._buffered.pop(label, None)
        if not batches:
            return
        table = pa.Table.from_batches(
            [b for x in batches for b in (x.to_batches() if isinstance(x, pa.Table) else [x])],
            schema=self.schema,
        )
        writer = self._writers.get(label)
        if writer is None:
            if len(self._writers) >= MAX_OPEN:
                oldest = next(iter(self._writers))
                self._writers.pop(oldest).close()
            folder = self.dir / f"{PARTITION_COLUMN}={label}" if label else self.dir
            folder.mkdir(parents=True, exist_ok=True)
            self._files += 1
            path = folder / f"part-{self.part}-{self._files:05d}.parquet"
            writer = pq.ParquetWriter(path, self.schema, compression="zstd")
            self._writers[label] = writer
        writer.write_table(table, row_group_size=max(table.num_rows, 1))

    def close(self) -> None:
        """Flush every buffer and close every file (a table that has no file yet gets an
        empty one, so readers see its schema)."""
        for label in list(self._buffers):
            self._flush(label)
        for writer in self._writers.values():
            writer.close()
        self._writers.clear()
        if self._files == 0 and not any(self.dir.rglob("*.parquet")):
            folder = (
                self.dir / f"{PARTITION_COLUMN}={UNKNOWN_PARTITION}"
                if self.partition_by
                else self.dir
            )
            folder.mkdir(parents=True, exist_ok=True)
            pq.write_table(self.schema.empty_table(), folder / f"part-{self.part}-empty.parquet")


def _label(day: int) -> str:
    if day == -(2**62):
        return UNKNOWN_PARTITION
    return str(np.datetime64(day, "D"))
