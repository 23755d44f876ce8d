"""`ocppkit bench report`: a full report over a generated fleet, peak memory and time.

The fleet is the largest sample log (``datasets/site-2.0.1.jsonl.gz``: four
2.0.1 stations over three days, with sessions, faults, authorisations and
meter values) copied ``N`` times, each copy's stations renamed
(``SITE0001`` -> ``SITE0001-0007``): N times the frames and the chargers of
the sample, with the same behaviour per charger.

Each report runs in a fresh interpreter (``python -c``) that prints its own
peak resident set (``getrusage(RUSAGE_SELF).ru_maxrss``) and wall time, so
one run's memory never carries into the next. Both engines run on each
size; the figure is the DuckDB engine's peak RSS on the largest fleet,
against the pandas engine's on the same fleet (the same-run baseline). The
target is *bounded* memory: the DuckDB engine's peak on the largest fleet
(60 times the sample's frames and chargers) at most :data:`BOUND` times its
peak on one copy, while the pandas engine's grows with the data. What the
DuckDB engine holds: the interpreter with pandas and matplotlib, DuckDB's
buffers (its ``memory_limit``, 256 MB by default: it spills beyond), one
batch of chargers (at most 30,000 rows) and the results.

The Spark engine (local mode on every core) runs too, on fewer sizes
(:data:`SPARK_SIZES`; the smallest only with ``--quick``): its start-up alone
is tens of seconds (``startup_seconds``, included in ``seconds``). Its
memory is several processes (the Python driver, the JVM, the Python
workers), so its figure is the sum of each one's peak (``VmHWM`` from
``/proc``, read before the session stops): an upper bound of their joint
peak. Without Java or pyspark it is skipped, with the reason.
"""

from __future__ import annotations

import gzip
import importlib.util
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import orjson

from ocppkit.toolkit.ingest.pipeline import IngestOptions, ingest
from ocppkit.toolkit.package_data import sample

SAMPLE_LOG = "site-2.0.1.jsonl.gz"
SIZES = (1, 10, 20, 60)
QUICK_SIZES = (1, 3)
BOUND = 2.0  # the DuckDB engine's peak on the largest fleet / on one copy, at most

_CHILD = """
import json, resource, sys, time
from ocppkit.toolkit.analysis.report import build_report
t = time.perf_counter()
summary = build_report(sys.argv[1], sys.argv[2], engine=sys.argv[3])
seconds = time.perf_counter() - t
peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": seconds, "peak_rss_mib": peak_kib / 1024,
                  "sessions": summary["sessions"]["sessions"],
                  "ports": summary["availability"]["nevi_ports"]}))
"""


SPARK_SIZES = (1, 20)  # fleet sizes the Spark engine reports (QUICK_SIZES[0] with --quick)

_SPARK_CHILD = """
import json, os, resource, sys, time
from ocppkit.toolkit.analysis.engine_spark import session
from ocppkit.toolkit.analysis.report import build_report

def hwm_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as fh:
            return next(int(x.split()[1]) for x in fh if x.startswith("VmHWM:"))
    except (OSError, StopIteration):
        return 0

def descendants(root):
    parent = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat") as fh:
                    parent[int(name)] = int(fh.read().rsplit(")", 1)[1].split()[1])
            except OSError:
                pass
    found, todo = set(), [root]
    while todo:
        p = todo.pop()
        kids = [c for c, pp in parent.items() if pp == p and c not in found]
        found.update(kids)
        todo += kids
    return found

t = time.perf_counter()
spark = session("local[*]", {"spark.ui.enabled": "false",
                             "spark.ui.showConsoleProgress": "false"})
spark.sparkContext.setLogLevel("ERROR")
started = time.perf_counter() - t
summary = build_report(sys.argv[1], sys.argv[2], engine="spark", spark=spark)
seconds = time.perf_counter() - t
others = sum(hwm_kib(p) for p in descendants(os.getpid()))
peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss + others
spark.stop()
print(json.dumps({"seconds": seconds, "peak_rss_mib": peak_kib / 1024,
                  "startup_seconds": started,
                  "sessions": summary["sessions"]["sessions"],
                  "ports": summary["availability"]["nevi_ports"]}))
"""


def spark_missing() -> str | None:
    """Why the Spark engine cannot run here (None: it can)."""
    if shutil.which("java") is None:
        return "no Java runtime (Spark needs one: e.g. openjdk-17-jre-headless)"
    if importlib.util.find_spec("pyspark") is None:
        return "pyspark is not installed (pip install 'ocppkit[spark]')"
    return None


def write_fleet(copies: int, path: Path) -> int:
    """Write ``copies`` renamed copies of the sample log to ``path``; return the frame count."""
    with gzip.open(sample(SAMPLE_LOG), "rb") as fh_in:
        records = [orjson.loads(line) for line in fh_in if line.strip()]
    frames = 0
    with path.open("wb") as fh:
        for record in records:  # time order kept: copy k of each line follows copy k-1
            for k in range(copies):
                renamed = {**record, "charge_point_id": f"{record['charge_point_id']}-{k:04d}"}
                fh.write(orjson.dumps(renamed) + b"\n")
                frames += 1
    return frames


def measure(dataset: Path, out: Path, engine: str) -> dict[str, Any]:
    """One report in a fresh interpreter: its time, peak RSS, sessions and ports."""
    child = _SPARK_CHILD if engine == "spark" else _CHILD
    done = subprocess.run(
        [sys.executable, "-c", child, str(dataset), str(out), engine],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"report ({engine}) failed: {done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def run(quick: bool) -> dict[str, Any]:
    """Reports over fleets of :data:`SIZES` copies of the sample (QUICK_SIZES with --quick)."""
    sizes = QUICK_SIZES if quick else SIZES
    missing = spark_missing()
    spark_sizes = () if missing else ((sizes[0],) if quick else SPARK_SIZES)
    root = Path(tempfile.mkdtemp(prefix="ocppkit-bench-report-"))
    rows: list[dict[str, Any]] = []
    try:
        for copies in sizes:
            log = root / f"fleet-{copies}.jsonl"
            frames = write_fleet(copies, log)
            dataset = root / f"ds-{copies}"
            ingest([log], dataset, IngestOptions(workers=1))
            log.unlink()
            engines = ("duckdb", "pandas", "spark") if copies in spark_sizes else (
                "duckdb", "pandas")  # fmt: skip
            for engine in engines:
                got = measure(dataset, root / f"report-{copies}-{engine}", engine)
                million = frames / 1e6
                rows.append(
                    {
                        "copies": copies,
                        "frames": frames,
                        "engine": engine,
                        "seconds": round(got["seconds"], 2),
                        "peak_rss_mib": round(got["peak_rss_mib"], 1),
                        "s_per_million_frames": round(got["seconds"] / million, 1),
                        "mib_per_million_frames": round(got["peak_rss_mib"] / million, 1),
                        "sessions": got["sessions"],
                        "ports": got["ports"],
                    }
                )
                if "startup_seconds" in got:  # Spark: the session's start, within seconds
                    rows[-1]["startup_seconds"] = round(got["startup_seconds"], 2)
            shutil.rmtree(dataset)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    summary = summarise([r for r in rows if r["engine"] != "spark"])
    summary["spark"] = (
        {"skipped": missing}
        if missing
        else {
            "runs": [r for r in rows if r["engine"] == "spark"],
            "memory": "sum of per-process peaks: Python driver, JVM, Python workers",
        }
    )
    return summary


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The suite's figures from the per-size, per-engine rows."""

    def peak(engine: str, copies: int) -> float:
        return float(
            next(r["peak_rss_mib"] for r in rows if r["engine"] == engine and r["copies"] == copies)
        )

    smallest, largest = min(r["copies"] for r in rows), max(r["copies"] for r in rows)
    duck, pandas = peak("duckdb", largest), peak("pandas", largest)
    growth = duck / peak("duckdb", smallest)
    return {
        "value": duck,
        "unit": "MiB peak RSS (duckdb engine)",
        "baseline": pandas,
        "baseline_unit": "MiB peak RSS (pandas engine, same fleet)",
        "ratio": round(duck / pandas, 3),
        "target": f"duckdb peak at {largest}x the sample <= {BOUND} x its peak at {smallest}x",
        "met": round(growth, 3) <= BOUND,
        "bound": BOUND,
        "duckdb_growth": round(growth, 3),
        "pandas_growth": round(pandas / peak("pandas", smallest), 3),
        "largest_frames": max(r["frames"] for r in rows),
        "runs": rows,
    }
