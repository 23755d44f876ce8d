"""Loading an ingested dataset (the directory `ocppkit ingest` writes) into pandas."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow.dataset as ds

from ocppkit.translators.errors import ConfigError

TABLE_NAMES = ("frames", "sessions", "meter_values", "status_events", "faults", "quarantine")


# ``flags`` would shadow pandas' ``DataFrame.flags`` (attribute access returns the
# frame's Flags object, not the column); the Parquet files keep the name.
RENAMED = {"flags": "anomaly_flags"}


def read_table(root: str | Path, name: str) -> pd.DataFrame:
    """One table of the dataset as a DataFrame (hive partitions become columns).

    The ``flags`` column is ``anomaly_flags`` here (:data:`RENAMED`).
    """
    path = Path(root) / name
    if not path.exists():
        raise ConfigError(f"{root}: no {name!r} table (is this an ocppkit dataset?)")
    table = ds.dataset(path, format="parquet", partitioning="hive").to_table()
    frame = table.to_pandas()
    # Dictionary-encoded text columns (source_file) read back as categoricals;
    # analysts expect plain strings.
    for column in frame.columns:
        if isinstance(frame[column].dtype, pd.CategoricalDtype):
            frame[column] = frame[column].astype("string")
    return frame.rename(columns=RENAMED)


@dataclass
class Dataset:
    """The tables of one ingested dataset."""

    root: Path
    frames: pd.DataFrame
    sessions: pd.DataFrame
    meter_values: pd.DataFrame
    status_events: pd.DataFrame
    faults: pd.DataFrame
    quarantine: pd.DataFrame

    @property
    def period(self) -> tuple[pd.Timestamp, pd.Timestamp]:
        """The time the data covers, by the chargers' own event times.

        Sessions, status events and meter values carry the charger's clock;
        frame timestamps are when a log writer received them, which differs
        for replayed or accelerated traffic. Falls back to frame times.
        """
        stamps = [
            self.sessions["start_time"],
            self.sessions["stop_time"],
            self.status_events["timestamp"],
            self.meter_values["timestamp"],
        ]
        present = [s.dropna() for s in stamps if s.notna().any()]
        events = pd.concat(present, ignore_index=True) if present else self.frames["timestamp"][:0]
        events = events[events >= pd.Timestamp("2000-01-01T00:00:00Z")]  # ignore 1970 clocks
        if events.empty:
            events = self.frames["timestamp"].dropna()
        if events.empty:
            raise ConfigError(f"{self.root}: the dataset has no timestamped event")
        return events.min(), events.max()

    def receive_times_cover(self, start: pd.Timestamp, end: pd.Timestamp) -> bool:
        """Frame receive times span most of ``[start, end)``: connectivity can be judged.

        False for replayed or accelerated logs (e.g. the simulator at high
        speed), whose receive times say nothing about when chargers were online.
        """
        stamps = self.frames["timestamp"].dropna()
        if stamps.empty or end <= start:
            return False
        overlap = min(end, stamps.max()) - max(start, stamps.min())
        return bool(overlap >= 0.5 * (end - start))


def load(root: str | Path) -> Dataset:
    """Load every table of the dataset at ``root``.

    Raises:
        ConfigError: ``root`` is not a dataset directory.
    """
    base = Path(root)
    if not base.is_dir():
        raise ConfigError(f"{base}: not a directory (expected an ocppkit dataset)")
    tables = {name: read_table(base, name) for name in TABLE_NAMES}
    return Dataset(root=base, **tables)
