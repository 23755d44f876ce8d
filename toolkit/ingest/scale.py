"""Scale proof: ingest a log of a given size and report time and peak memory.

``python -m ocppkit.toolkit.ingest.scale --gigabytes 10 --dir /tmp/scale`` writes a
MeterValues-heavy 1.6 journal of that size with the benchmark's generator
(:func:`ocppkit.toolkit.ingest.bench.write_journal`), ingests it into all tables with
the default workers, prints one JSON line and deletes what it wrote (unless
``--keep``). The issue's target is a 10 GB log in under 1.5 GiB.

The ingest runs in a fresh (spawned) process and its memory is sampled from
this one, every 100 ms, over the ingest process and its workers: the sampler
then neither competes with the run for its GIL nor counts itself, and the
run starts from a clean interpreter, as ``ocppkit ingest`` does. Memory is
reported summed over that process tree two ways (see
:class:`ocppkit.toolkit.ingest.bench.PeakRss`): ``peak_pss_mib`` (proportional set
size: pages the forked workers share with their parent counted once; the
memory the run actually holds, and the figure the target is judged by) and
``peak_rss_sum_mib`` (each process's RSS added up: shared pages counted once
per process, an upper bound).
"""

from __future__ import annotations

import argparse
import multiprocessing
import shutil
import sys
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import orjson

from ocppkit.toolkit.ingest.bench import PeakRss, write_journal
from ocppkit.toolkit.ingest.pipeline import IngestOptions, ingest
from ocppkit.translators.errors import OcppkitError

LIMIT_MIB = 1536  # the "< 1.5 GiB"
SAMPLE_S = 0.1


def run(
    nbytes: int, directory: str | Path, workers: int | None = None, keep: bool = False
) -> dict[str, Any]:
    """Write a journal of about ``nbytes`` bytes in ``directory``, ingest it, measure.

    Args:
        nbytes: journal size to write (whole transactions: slightly more).
        directory: where the journal and the dataset go (a fresh subfolder).
        workers: ingest workers (default: ingest's default, the CPU count).
        keep: leave the journal and the dataset on disk.

    Returns:
        The measurement (see :func:`main` for the fields).

    Raises:
        OcppkitError: the ingest process failed.
    """
    root = Path(tempfile.mkdtemp(prefix="ocppkit-scale-", dir=directory))
    journal, out = root / "journal.jsonl", root / "dataset"
    try:
        started = time.perf_counter()
        written = write_journal(journal, None, nbytes=nbytes)
        generate_s = time.perf_counter() - started
        context = multiprocessing.get_context("spawn")
        receive, send = context.Pipe(duplex=False)
        child = context.Process(target=_ingest_child, args=(str(journal), str(out), workers, send))
        wall = time.perf_counter()
        child.start()
        send.close()
        with PeakRss(child.pid, SAMPLE_S) as memory:
            try:
                summary: dict[str, Any] = receive.recv()
            except EOFError:  # it died; its traceback is on stderr
                summary = {}
            child.join()
        wall = time.perf_counter() - wall
        if child.exitcode != 0 or not summary:
            raise OcppkitError(f"the ingest process failed (exit code {child.exitcode})")
        size = journal.stat().st_size
        seconds = summary["seconds"]
        frames = summary["rows"]["frames"]
        return {
            "bytes": size,
            "frames": frames,
            "frames_written": written,
            "seconds": round(seconds, 2),
            "frames_per_s": round(frames / seconds),
            "mb_per_s": round(size / seconds / 1e6, 1),
            "peak_pss_mib": round(memory.peak),
            "peak_rss_sum_mib": round(memory.peak_rss),
            "limit_mib": LIMIT_MIB,
            "met": memory.peak < LIMIT_MIB,
            "workers": summary["workers"],
            "rows": summary["rows"],
            "flags": summary["flags"],
            "generate_s": round(generate_s, 1),
            "wall_s": round(wall, 1),
        }
    finally:
        if not keep:
            shutil.rmtree(root, ignore_errors=True)


def _ingest_child(journal: str, out: str, workers: int | None, send: Connection) -> None:
    summary = ingest([journal], out, IngestOptions(workers=workers))
    send.send(summary.to_dict())
    send.close()


def main(argv: list[str] | None = None) -> None:
    """Print one JSON line: bytes, frames, seconds (ingest alone), frames_per_s,
    mb_per_s, peak_pss_mib, peak_rss_sum_mib, limit_mib, met, workers, rows, flags,
    generate_s, wall_s."""
    parser = argparse.ArgumentParser(
        prog="python -m ocppkit.toolkit.ingest.scale", description=__doc__
    )
    parser.add_argument("--gigabytes", type=float, default=10.0, help="journal size (1 GB = 1e9 B)")
    parser.add_argument("--dir", default=tempfile.gettempdir(), help="where to write (and delete)")
    parser.add_argument("--workers", type=int, default=None, help="ingest workers (default: CPUs)")
    parser.add_argument("--keep", action="store_true", help="keep the journal and dataset")
    args = parser.parse_args(argv)
    result = run(int(args.gigabytes * 1e9), args.dir, args.workers, args.keep)
    sys.stdout.write(orjson.dumps(result).decode() + "\n")


if __name__ == "__main__":
    main()
