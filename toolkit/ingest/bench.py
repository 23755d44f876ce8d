"""`ocppkit bench ingest`: journal -> all tables, against DuckDB on the same file.

The input is a MeterValues-heavy 1.6 journal of a small fleet: per
transaction a StartTransaction, MeterValues every minute (6 sampled values:
register, power in kW, three phase currents, SoC) and a StopTransaction,
each CALL answered. The baseline is DuckDB's ``read_json`` of the same file
written to one flat Parquet file (no sessions, no meter rows, no matching):
the cost of just moving the bytes from JSON to Parquet with a vectorised C++
engine. A second baseline, ``duckdb_derived``, has DuckDB derive the frames
and meter_values tables in SQL (JSON functions + unnest), the like-for-like
part of what ingest does. A third, ``ocpp_lens``, is the ocpp-lens package
from PyPI (a pure-Python OCPP 1.6 log analyser: sessions and faults, no
tables) on a prefix of the same file, when it is installed. All run in the
same process, moments apart.

Two more findings come with the figures:

* ``split``: where the run's time went, by stage (reading the file, parsing
  lines, deriving rows in the workers and in order, writing Parquet), from
  :attr:`ocppkit.toolkit.ingest.pipeline.IngestSummary.stages`;
* ``columnar``: on the journal's first block, the per-line path ingest keeps
  for the fields every frame has against two columnar candidates (Arrow's
  vectorised ``extract_regex`` on the raw lines, DuckDB's ``read_json``), and
  the Arrow path ingest keeps for meter_values against the per-payload Python
  one, in alternating slices; ``kept_is_fastest`` says whether the choice
  still holds on this machine.
"""

from __future__ import annotations

import os
import re
import resource
import tempfile
import threading
import time
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa

from ocppkit.toolkit.ingest.pipeline import IngestOptions, ingest
from ocppkit.translators.errors import ConfigError

SAMPLES_PER_TX = 60
LENS_FRAMES = 100_000  # ocpp-lens reads a prefix this long (see ocpp_lens_rate)


def write_journal(
    path: Path, frames: int | None, chargers: int = 50, nbytes: int | None = None
) -> int:
    """Write a MeterValues-heavy 1.6 journal of about ``frames`` frames, or of about
    ``nbytes`` bytes (whole transactions: it stops at the first past either); return
    the frame count."""
    if frames is None and nbytes is None:
        raise ConfigError("write_journal: give frames or nbytes")
    written = size = 0
    tx = 0
    with path.open("wb") as fh:
        while (frames is None or written < frames) and (nbytes is None or size < nbytes):
            tx += 1
            lines = _transaction(tx, chargers)
            size += fh.write(b"\n".join(lines) + b"\n")
            written += len(lines)
    return written


def _stamp(t: float, millis: bool = True) -> str:
    whole = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t))
    return whole + (f".{int(t * 1000) % 1000:03d}Z" if millis else "Z")


def _transaction(tx: int, chargers: int) -> list[bytes]:
    """The journal lines of one transaction: start, a sample a minute, stop; all answered."""
    lines: list[bytes] = []
    cp = f"CP-{tx % chargers:04d}"
    t0 = 1_772_438_400 + (tx // chargers) * (SAMPLES_PER_TX + 5) * 60  # from 2026-03-02T08:00Z
    reg = 100_000 + tx * 10

    def call(t: float, mid: str, action: str, payload: dict[str, Any], answer: Any) -> None:
        for when, direction, msg in (
            (t, "cs_to_csms", [2, mid, action, payload]),
            (t + 0.04, "csms_to_cs", [3, mid, answer]),
        ):
            record = {"timestamp": _stamp(when), "charge_point_id": cp, "direction": direction,
                      "ocpp_version": "1.6", "message": msg}  # fmt: skip
            lines.append(orjson.dumps(record))

    accepted = {"idTagInfo": {"status": "Accepted"}}
    start = {"connectorId": 1, "idTag": "TAG", "meterStart": reg, "timestamp": _stamp(t0, False)}
    call(t0, f"s{tx}", "StartTransaction", start, {"transactionId": tx, **accepted})
    for i in range(1, SAMPLES_PER_TX):
        t = t0 + i * 60
        sampled = [
            {"value": str(reg + i * 183), "measurand": "Energy.Active.Import.Register",
             "unit": "Wh", "context": "Sample.Periodic", "location": "Outlet"},
            {"value": "11.0", "measurand": "Power.Active.Import", "unit": "kW",
             "context": "Sample.Periodic"},
            *({"value": "16.0", "measurand": "Current.Import", "unit": "A", "phase": p,
               "context": "Sample.Periodic"} for p in ("L1", "L2", "L3")),
            {"value": str(20 + i), "measurand": "SoC", "unit": "Percent",
             "context": "Sample.Periodic", "location": "EV"},
        ]  # fmt: skip
        entry = {"timestamp": _stamp(t, False), "sampledValue": sampled}
        payload = {"connectorId": 1, "transactionId": tx, "meterValue": [entry]}
        call(t, f"m{tx}-{i}", "MeterValues", payload, {})
    t = t0 + SAMPLES_PER_TX * 60
    stop = {"transactionId": tx, "meterStop": reg + SAMPLES_PER_TX * 183,
            "timestamp": _stamp(t, False), "reason": "EVDisconnected"}  # fmt: skip
    call(t, f"t{tx}", "StopTransaction", stop, accepted)
    return lines


class PeakRss:
    """Samples the memory of a process and its descendants in a thread, in MiB.

    ``peak`` is the largest sum of PSS (proportional set size), ``peak_rss``
    the largest sum of RSS. PSS is the figure to judge by: forked workers
    share their parent's pages (interpreter, modules, Arrow) copy-on-write,
    and summing RSS counts each of those pages once per process; PSS splits a
    shared page between its sharers, so its sum is the memory the run holds.

    Args:
        pid: the root process (default: this one).
        interval: seconds between samples.
    """

    def __init__(self, pid: int | None = None, interval: float = 0.05) -> None:
        self.pid = pid
        self.interval = interval
        self.peak = 0.0
        self.peak_rss = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> None:
        pss, rss = tree_memory(self.pid if self.pid is not None else os.getpid())
        self.peak = max(self.peak, pss)
        self.peak_rss = max(self.peak_rss, rss)

    def _run(self) -> None:
        # Sample once at once, then every interval: a short run still has a figure.
        self._sample()
        while not self._stop.wait(self.interval):
            self._sample()

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()


def tree_memory(root: int) -> tuple[float, float]:
    """(PSS, RSS) of ``root`` and all its descendants, each summed, MiB (0 once it is gone)."""
    pss = rss = 0
    pending = [root]
    while pending:
        pid = pending.pop()
        pending += _children(pid)
        try:
            with open(f"/proc/{pid}/smaps_rollup") as fh:
                for line in fh:
                    if line.startswith("Rss:"):
                        rss += int(line.split()[1])
                    elif line.startswith("Pss:"):
                        pss += int(line.split()[1])
                        break
        except OSError:
            continue
    return pss / 1024, rss / 1024


def _children(pid: int) -> list[int]:
    """Children of every thread of ``pid`` (a pool may fork from any of them)."""
    out: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children") as fh:
                out += [int(x) for x in fh.read().split()]
        except OSError:
            continue
    return out


def duckdb_baseline(path: Path, out: Path) -> float:
    """Seconds DuckDB takes to read the journal and write it as one flat Parquet file."""
    import duckdb

    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    start = time.perf_counter()
    con.execute(
        f"COPY (SELECT * FROM read_json('{path}', format='newline_delimited')) "
        f"TO '{out}' (FORMAT parquet)"
    )
    elapsed = time.perf_counter() - start
    con.close()
    return elapsed


def duckdb_derived(path: Path, out: Path) -> float:
    """Seconds DuckDB takes to derive the frames and meter_values tables alone in SQL.

    A second, like-for-like baseline: the same JSON functions an analyst would
    write (frames with payload text; sampled values unnested from the
    MeterValues payloads), no sessions, statuses, matching or flags.
    """
    import duckdb

    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    # Bounded like ingest: DuckDB spills its temporary table to disk past 1 GB.
    con.execute(f"SET memory_limit = '1GB'; SET temp_directory = '{out}/spill'")
    start = time.perf_counter()
    con.execute(f"""
        CREATE TEMP TABLE f AS SELECT row_number() OVER () AS line,
          timestamp::TIMESTAMPTZ AS ts, charge_point_id AS cp, direction, ocpp_version,
          (message->>0)::INT AS mt, message->>1 AS mid,
          CASE WHEN (message->>0) = '2' THEN message->>2 END AS action,
          CASE WHEN (message->>0) = '2' THEN message->3 ELSE message->2 END AS payload
        FROM read_json('{path}', format='newline_delimited', columns={{timestamp: 'VARCHAR',
          charge_point_id: 'VARCHAR', direction: 'VARCHAR', ocpp_version: 'VARCHAR',
          message: 'JSON'}})""")
    con.execute(f"COPY f TO '{out}/frames.parquet' (FORMAT parquet)")
    con.execute(f"""COPY (
        SELECT line, cp, payload->>'$.connectorId' AS conn, payload->>'$.transactionId' AS tx,
          mv->>'timestamp' AS ts, sv->>'measurand' AS measurand, sv->>'unit' AS unit,
          sv->>'phase' AS phase, sv->>'context' AS context, (sv->>'value')::DOUBLE AS value
        FROM f, unnest((payload->'$.meterValue')::JSON[]) AS u(mv),
          unnest((mv->'sampledValue')::JSON[]) AS w(sv)
        WHERE action = 'MeterValues') TO '{out}/meter_values.parquet' (FORMAT parquet)""")
    elapsed = time.perf_counter() - start
    con.close()
    return elapsed


def run(quick: bool, workers: int | None = None, frames: int | None = None) -> dict[str, Any]:
    """Ingest a 1,000,000-frame journal (100,000 with ``quick``) vs DuckDB's flat copy.

    Args:
        quick: the smaller size.
        workers: worker processes for ingest (default: CPU count).
        frames: override the size (tests).
    """
    target_frames = frames or (100_000 if quick else 1_000_000)
    with tempfile.TemporaryDirectory(prefix="ocppkit-bench-") as tmp:
        root = Path(tmp)
        journal = root / "journal.jsonl"
        written = write_journal(journal, target_frames)
        size = journal.stat().st_size
        # On disk before any clock starts: the kernel's writeback of the fresh file
        # would otherwise take CPU from whichever contender runs first (DuckDB).
        os.sync()
        baseline_s = duckdb_baseline(journal, root / "flat.parquet")
        (root / "derived").mkdir()
        derived_s = duckdb_derived(journal, root / "derived")
        with PeakRss() as rss:
            start = time.perf_counter()
            summary = ingest([journal], root / "dataset", IngestOptions(workers=workers))
            elapsed = time.perf_counter() - start
        ours = summary.frames / elapsed
        theirs = written / baseline_s
        derived = written / derived_s
        lens = ocpp_lens_rate(journal, min(written, LENS_FRAMES))
        trial = columnar_trial(journal, 1.0 if quick else 3.0)
        lens_rate = lens.get("frames_per_s")
        return {
            "value": round(ours),
            "unit": "frames/s",
            "baseline": round(theirs),
            "baseline_unit": "frames/s (DuckDB read_json -> flat Parquet, same file)",
            "ratio": round(ours / theirs, 2),
            "target": ">= 1.0x DuckDB, all tables derived",
            "met": ours >= theirs,
            "duckdb_derived": round(derived),
            "duckdb_derived_unit": "frames/s (DuckDB deriving frames + meter_values in SQL)",
            "ratio_derived": round(ours / derived, 2),
            "ocpp_lens": lens,
            "ratio_ocpp_lens": round(ours / lens_rate, 2) if lens_rate else None,
            "split": stage_split(summary.stages),
            "columnar": trial,
            "frames": summary.frames,
            "mb_per_s": round(size / elapsed / 1e6, 1),
            "input_mb": round(size / 1e6, 1),
            "rows": summary.rows,
            "workers": summary.workers,
            "peak_pss_mb": round(rss.peak),
            # this process's peak, DuckDB's baselines (run in it first) included
            "max_rss_incl_duckdb_mb": round(
                resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            ),
            "load_average": [round(x, 2) for x in os.getloadavg()],
        }


STAGES = ("read", "parse", "derive", "derive_in_order", "write")


def stage_split(stages: dict[str, float]) -> dict[str, Any]:
    """The run's stage times (:attr:`IngestSummary.stages`) with each one's share.

    Shares are of the CPU seconds the stages took (the workers' parse and derive
    are summed over the processes); ``wait`` is this process idle on them.
    """
    busy = sum(stages.get(s, 0.0) for s in STAGES) or 1.0
    return {
        "seconds": {s: round(stages.get(s, 0.0), 3) for s in (*STAGES, "wait")},
        "share": {s: round(stages.get(s, 0.0) / busy, 3) for s in STAGES},
        "note": "parse and derive: CPU seconds summed over the workers; the rest: this process",
    }


def _first_block(path: Path, size: int) -> bytes:
    """The first ``size`` bytes of ``path``, cut after the last whole line."""
    with path.open("rb") as fh:
        blob = fh.read(size)
    return blob[: blob.rfind(b"\n") + 1]


def _named_layout() -> str:
    """The journal reader's line layout with named groups and the payload, for RE2 (Arrow)."""
    from ocppkit.toolkit.ingest.readers.journal import _HEADER

    names = iter(("ts", "cp", "direction", "version", "mtype", "mid", "action"))
    head = re.sub(r"\((?!\?)", lambda _: f"(?P<{next(names)}>", _HEADER.decode())
    return head.removesuffix(r"\{") + r"(?P<payload>\{.*)\]\}$"


FRAME_FIELDS = ("ts", "cp", "direction", "version", "mtype", "mid", "action")


def frame_candidates(blob: bytes, block_file: Path) -> dict[str, Callable[[], int]]:
    """Three ways to read the fields every frame has out of one block of journal lines.

    * ``per_line``: the journal reader ingest uses (one anchored regex per line, a
      tuple per frame, the payload kept as bytes);
    * ``arrow``: the same layout through Arrow's ``extract_regex`` (RE2, vectorised)
      over the block as one string array;
    * ``duckdb``: DuckDB's ``read_json`` of the block with JSON path extraction.

    The columnar two hand Python only what matching calls to results needs
    (time, charger, direction, version, type, id, action: lists), and keep the
    payload an Arrow column, as a columnar frames table would. Each returns the
    frames it read.
    """
    import duckdb
    import pyarrow.compute as pc

    from ocppkit.toolkit.ingest.readers import ReaderOptions
    from ocppkit.toolkit.ingest.readers.journal import read_block

    options = ReaderOptions(None, None, "csms", str(block_file), None)
    layout = _named_layout()

    def per_line() -> int:
        return len(list(read_block(blob, 1, options)))

    def arrow() -> int:
        lines = pa.array(blob.split(b"\n")[:-1], pa.binary()).cast(pa.string())
        parts = pc.extract_regex(lines, layout)
        columns = [parts.field(f).to_pylist() for f in FRAME_FIELDS]
        payload = parts.field("payload")
        return len(columns[0]) if payload.null_count == 0 else -1

    def duck() -> int:
        con = duckdb.connect()
        try:
            table = con.sql(f"""
                SELECT timestamp AS ts, charge_point_id AS cp, direction,
                  ocpp_version AS version, (message->>0)::INT AS mtype, message->>1 AS mid,
                  CASE WHEN (message->>0) = '2' THEN message->>2 END AS action,
                  CASE WHEN (message->>0) = '2' THEN message->3 ELSE message->2 END AS payload
                FROM read_json('{block_file}', format='newline_delimited',
                  columns={{timestamp: 'VARCHAR', charge_point_id: 'VARCHAR',
                  direction: 'VARCHAR', ocpp_version: 'VARCHAR', message: 'JSON'}})
            """).to_arrow_table()
        finally:
            con.close()
        columns = [table.column(f).to_pylist() for f in FRAME_FIELDS]
        return len(columns[0])

    return {"per_line": per_line, "arrow": arrow, "duckdb": duck}


def meter_candidates(blob: bytes, source: str) -> dict[str, Callable[[], int]]:
    """Two ways to build the meter_values rows of one block's MeterValues payloads.

    * ``arrow``: the path ingest uses (:func:`ocppkit.toolkit.ingest.rows.vector_groups`:
      Arrow's JSON reader over the payloads, then Arrow compute);
    * ``per_line``: the per-payload Python path ingest keeps for groups Arrow
      cannot read (``orjson.loads`` per payload, one row per sample).

    Each returns the meter rows it built.
    """
    from ocppkit.toolkit.ingest.events import FrameEvent
    from ocppkit.toolkit.ingest.flatten import MeterColumns
    from ocppkit.toolkit.ingest.readers import ReaderOptions
    from ocppkit.toolkit.ingest.readers.journal import read_block
    from ocppkit.toolkit.ingest.rows import Group, _python_group, meter_batch, vector_groups

    options = ReaderOptions(None, None, "csms", source, None)
    mv = [
        ev for ev in read_block(blob, 1, options)
        if isinstance(ev, FrameEvent) and ev.action == "MeterValues" and type(ev.payload) is bytes
    ]  # fmt: skip

    def group() -> Group:
        g = Group(6)
        for row, ev in enumerate(mv):
            assert type(ev.payload) is bytes
            g.add(ev.cp, None, None, None, ev.line, ev.payload, None,
                  ["mv", row, ev.cp, ev.version, None, None, None])  # fmt: skip
        return g

    def arrow() -> int:
        batches, _, _ = vector_groups({("1.6", "MeterValues"): group()}, MeterColumns(), source)
        return sum(b.num_rows for b in batches)

    def per_line() -> int:
        meters = MeterColumns()
        _python_group(group(), "1.6", "MeterValues", meters)
        rows: int = meter_batch(meters, source, None).num_rows
        return rows

    return {"arrow": arrow, "per_line": per_line}


def columnar_trial(journal: Path, seconds: float) -> dict[str, Any]:
    """Time the candidates on the journal's first ingest block, in alternating slices."""
    from ocppkit.toolkit.bench import interleaved
    from ocppkit.toolkit.ingest.pipeline import BLOCK_BYTES

    blob = _first_block(journal, BLOCK_BYTES)
    block_file = journal.with_name("block.jsonl")
    block_file.write_bytes(blob)
    out: dict[str, Any] = {"block_mb": round(len(blob) / 1e6, 1)}
    for table, candidates, kept, unit in (
        ("frames", frame_candidates(blob, block_file), "per_line", "frames/s"),
        ("meter_values", meter_candidates(blob, str(block_file)), "arrow", "rows/s"),
    ):
        rates = interleaved(candidates, seconds)
        fastest = max(rates, key=rates.__getitem__)
        out[table] = {
            **{name: round(r) for name, r in rates.items()},
            "unit": unit,
            "fastest": fastest,
            "kept": kept,
            "kept_is_fastest": kept == fastest,
        }
    block_file.unlink()
    return out


def ocpp_lens_rate(journal: Path, frames: int) -> dict[str, Any]:
    """Frames/s of ocpp-lens (PyPI) parsing and analysing the first ``frames`` frames.

    A prefix: ocpp-lens holds every message (and its raw line) as Python objects,
    about 3 KB a frame, so a million would not fit beside the rest.
    """
    try:
        from ocpp_lens import OCPPAnalyzer, OCPPLogParser
    except ModuleNotFoundError:
        return {"error": "ocpp-lens is not installed (pip install ocpp-lens: it is on PyPI)"}
    prefix = journal.with_name("lens.jsonl")
    with journal.open("rb") as src, prefix.open("wb") as dst:
        for _, line in zip(range(frames), src, strict=False):
            dst.write(line)
    start = time.perf_counter()
    result = OCPPAnalyzer().analyze(OCPPLogParser().parse_file(str(prefix)))
    elapsed = time.perf_counter() - start
    prefix.unlink()
    return {
        "frames_per_s": round(frames / elapsed),
        "frames": frames,
        "sessions": result.total_sessions,
        "version": version("ocpp-lens"),
        "what": "OCPPLogParser().parse_file + OCPPAnalyzer().analyze: sessions, faults, "
        "charger identity (no meter_values, no Parquet)",
    }
