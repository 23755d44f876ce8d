"""Cutting a log into blocks, and reading blocks in worker processes, changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from ocppkit.toolkit.ingest import IngestOptions, ingest, pipeline
from tests.ingest import fleet as F
from tests.ingest.helpers import table


def _tables(dataset: Path) -> dict[str, list[dict[str, object]]]:
    def key(row: dict[str, object]) -> tuple[str, ...]:
        return tuple(str(v) for v in row.values())

    return {
        name: sorted(table(dataset, name), key=key)
        for name in ("frames", "sessions", "meter_values", "status_events", "faults")
    }


@pytest.fixture(scope="module")
def log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("log")
    fleet = F.make_fleet(seed=5, chargers=4, sessions_per_evse=2)
    return F.write(fleet, "2.0.1", "frames", root / "fleet.log")


@pytest.fixture(scope="module")
def whole(
    log: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, list[dict[str, object]]]:
    out = tmp_path_factory.mktemp("whole") / "ds"
    ingest([log], out, IngestOptions(workers=1, block_bytes=64 * 1024 * 1024))
    return _tables(out)


def test_small_blocks_give_the_same_tables_as_one_block(
    log: Path, whole: dict[str, list[dict[str, object]]], tmp_path: Path
) -> None:
    summary = ingest([log], tmp_path / "ds", IngestOptions(workers=1, block_bytes=1500))
    assert _tables(tmp_path / "ds") == whole
    assert "orphan_result" not in summary.flags  # results found their calls across blocks


def test_worker_processes_give_the_same_tables(
    log: Path, whole: dict[str, list[dict[str, object]]], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setattr(pipeline, "MIN_PARALLEL_BYTES", 0)
    summary = ingest([log], tmp_path / "ds", IngestOptions(workers=2, block_bytes=20_000))
    assert summary.workers == 2
    assert _tables(tmp_path / "ds") == whole


def test_gzipped_log_reads_like_the_plain_one(
    log: Path, whole: dict[str, list[dict[str, object]]], tmp_path: Path
) -> None:
    import gzip

    packed = tmp_path / "fleet.log.gz"
    packed.write_bytes(gzip.compress(log.read_bytes()))
    ingest([packed], tmp_path / "ds", IngestOptions(workers=1))
    got = _tables(tmp_path / "ds")
    assert {k: [{**r, "source_file": None} for r in v] for k, v in got.items()} == {
        k: [{**r, "source_file": None} for r in v] for k, v in whole.items()
    }


def test_existing_dataset_is_not_overwritten_without_asking(log: Path, tmp_path: Path) -> None:
    from ocppkit.translators.errors import ConfigError

    ingest([log], tmp_path / "ds", IngestOptions(workers=1))
    with pytest.raises(ConfigError, match="--overwrite"):
        ingest([log], tmp_path / "ds", IngestOptions(workers=1))
    summary = ingest([log], tmp_path / "ds", IngestOptions(workers=1, overwrite=True))
    assert len(table(tmp_path / "ds", "frames")) == summary.frames
