"""The scale measurement runs end to end on a few MB and reports sane figures."""

from __future__ import annotations

from pathlib import Path

from ocppkit.toolkit.ingest import scale


def test_scale_run_reports_size_rate_and_memory_and_cleans_up(tmp_path: Path) -> None:
    result = scale.run(3_000_000, tmp_path)
    assert 3_000_000 <= result["bytes"] < 3_200_000  # whole transactions: a little more
    assert result["frames"] == result["frames_written"] == result["rows"]["frames"]
    assert result["rows"]["meter_values"] > 5 * result["frames"] / 2  # six per MeterValues
    assert result["rows"]["sessions"] > 0 and result["rows"]["quarantine"] == 0
    assert result["frames_per_s"] > 0 and result["mb_per_s"] > 0
    # the ingest process was measured: an interpreter with pyarrow loaded is tens of MiB
    assert 30 < result["peak_pss_mib"] <= result["peak_rss_sum_mib"]
    assert result["met"] is (result["peak_pss_mib"] < scale.LIMIT_MIB)
    assert list(tmp_path.iterdir()) == []  # journal and dataset deleted


def test_scale_run_can_keep_its_files(tmp_path: Path) -> None:
    result = scale.run(500_000, tmp_path, workers=1, keep=True)
    (root,) = tmp_path.iterdir()
    assert (root / "journal.jsonl").stat().st_size == result["bytes"]
    assert (root / "dataset" / "_summary.json").is_file()
