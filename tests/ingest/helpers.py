"""Reading a written dataset back, for assertions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow.dataset as ds


def table(dataset: Path, name: str) -> list[dict[str, Any]]:
    """All rows of one table, as dicts (partition column dropped)."""
    rows = ds.dataset(dataset / name, format="parquet", partitioning="hive").to_table().to_pylist()
    for row in rows:
        row.pop("date", None)
    return rows


def sessions_by_tx(dataset: Path) -> dict[str | None, dict[str, Any]]:
    return {row["transaction_id"]: row for row in table(dataset, "sessions")}
