"""The ingest benchmark runs end to end and reports against its DuckDB baseline."""

from __future__ import annotations

import pytest

from ocppkit.toolkit.ingest import bench


def test_bench_reports_rate_ratio_and_memory_on_a_small_journal() -> None:
    pytest.importorskip("duckdb")
    result = bench.run(quick=True, workers=1, frames=3000)
    assert result["unit"] == "frames/s"
    assert result["frames"] >= 3000
    assert result["rows"]["meter_values"] > result["frames"]  # six samples per MeterValues
    assert result["rows"]["sessions"] >= 20
    assert result["value"] > 0 and result["baseline"] > 0
    assert abs(result["ratio"] - result["value"] / result["baseline"]) < 0.01
    assert result["peak_pss_mb"] > 0
    assert result["duckdb_derived"] > 0 and result["ratio_derived"] > 0
