"""The floor of any Python-per-line ingest on this machine, next to DuckDB's flat read.

``python -m ocppkit.toolkit.ingest.floor [--frames 1000000]`` writes the benchmark's
journal (:func:`ocppkit.toolkit.ingest.bench.write_journal`) and times, in one run:

* ``split``: reading the file and splitting it into lines, nothing else;
* ``orjson_1p``: that plus ``orjson.loads`` of every line, in one process;
* ``orjson_2p``: the same on two processes, each taking half the file
  (wall time, including starting them);
* ``duckdb_flat``: DuckDB ``read_json`` of the file into one flat Parquet file
  (the ``ocppkit bench ingest`` baseline, :func:`ocppkit.toolkit.ingest.bench.duckdb_baseline`).

Any design that hands each line to Python costs at least ``orjson_*`` per
frame before deriving a single row, so the ratio ``orjson_2p / duckdb_flat``
bounds what such a pipeline can reach against the issue's >= 1.0x target.
Prints one JSON line of frames/s (and MB/s) per measurement.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

from ocppkit.toolkit.ingest.bench import duckdb_baseline, write_journal


def _split(path: str, start: int = 0, stop: int | None = None) -> int:
    with open(path, "rb") as fh:
        fh.seek(start)
        data = fh.read() if stop is None else fh.read(stop - start)
    return len(data.splitlines())


def _loads(path: str, start: int = 0, stop: int | None = None) -> int:
    with open(path, "rb") as fh:
        fh.seek(start)
        data = fh.read() if stop is None else fh.read(stop - start)
    loads = orjson.loads
    n = 0
    for line in data.splitlines():
        loads(line)
        n += 1
    return n


def _halves(path: Path) -> list[tuple[str, int, int]]:
    """Two byte ranges of whole lines."""
    size = path.stat().st_size
    with path.open("rb") as fh:
        fh.seek(size // 2)
        fh.readline()
        middle = fh.tell()
    return [(str(path), 0, middle), (str(path), middle, size)]


def measure(frames: int = 1_000_000) -> dict[str, Any]:
    """Time the four measurements on a journal of about ``frames`` frames."""
    with tempfile.TemporaryDirectory(prefix="ocppkit-floor-") as tmp:
        journal = Path(tmp) / "journal.jsonl"
        written = write_journal(journal, frames)
        size = journal.stat().st_size
        seconds: dict[str, float] = {}

        def timed(name: str, fn: Any) -> None:
            start = time.perf_counter()
            fn()
            seconds[name] = time.perf_counter() - start

        # Written back to disk before any clock starts (on 2 cores the kernel's
        # writeback of 500 MB would otherwise steal CPU from whichever runs next),
        # and in the page cache for everyone.
        os.sync()
        _split(str(journal))
        timed("split", lambda: _split(str(journal)))
        timed("orjson_1p", lambda: _loads(str(journal)))
        context = multiprocessing.get_context("fork")
        with context.Pool(2) as pool:
            pool.map(int, [0, 0])  # started before the clock
            timed("orjson_2p", lambda: pool.starmap(_loads, _halves(journal)))
        seconds["duckdb_flat"] = duckdb_baseline(journal, Path(tmp) / "flat.parquet")
    out: dict[str, Any] = {"frames": written, "mb": round(size / 1e6, 1)}
    for name, s in seconds.items():
        out[name] = {"frames_per_s": round(written / s), "mb_per_s": round(size / s / 1e6, 1)}
    out["orjson_2p_vs_duckdb"] = round(seconds["duckdb_flat"] / seconds["orjson_2p"], 2)
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m ocppkit.toolkit.ingest.floor", description=__doc__
    )
    parser.add_argument("--frames", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    sys.stdout.write(orjson.dumps(measure(args.frames)).decode() + "\n")


if __name__ == "__main__":
    main()
