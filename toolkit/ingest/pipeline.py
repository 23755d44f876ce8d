"""`ingest`: log files in, a Parquet dataset (model.TABLES) and a summary out.

The flow, per file in the order given:

1. sniff the first lines to pick the reader (or take ``--format``) and, for
   logs that do not say it, guess the OCPP version from the actions seen;
2. cut a splittable file into blocks of whole lines and hand them to a
   process pool, at most a few blocks in flight (bounded memory); a
   non-splittable one (SOAP) is read in this process;
3. take the block results *in order*: resolve results whose call was in an
   earlier block, flag duplicate message ids (:mod:`ocppkit.toolkit.ingest.duplicates`)
   and clock jumps across blocks, feed the control events to the
   session/fault assembler, and append every table's rows to its incremental
   writer.

Nothing is dropped silently: unusable lines go to ``quarantine`` with their
reason, anomalies become ``flags`` and counts in :class:`IngestSummary`.
"""

from __future__ import annotations

import multiprocessing
import os
import secrets
import shutil
import time
from collections import Counter, defaultdict, deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from ocppkit.toolkit.ingest import duplicates, model, state
from ocppkit.toolkit.ingest.block import (
    CLOCK_JUMP_US,
    BlockJob,
    BlockResult,
    build_block,
    process_job,
    token_hasher,
)
from ocppkit.toolkit.ingest.events import REVERSE, SKIPPED, Bad
from ocppkit.toolkit.ingest.readers import GUESS_VERSION, ReaderOptions, detect, get_reader
from ocppkit.toolkit.ingest.rows import as_us, register_batch, with_evse
from ocppkit.toolkit.ingest.sessions import SessionAssembler
from ocppkit.toolkit.ingest.source import blocks as _blocks
from ocppkit.toolkit.ingest.source import first_lines as _first_lines
from ocppkit.toolkit.ingest.source import guess_version, lines_of
from ocppkit.toolkit.ingest.source import open_log as _open
from ocppkit.toolkit.ingest.writer import TableWriter
from ocppkit.translators.errors import ConfigError

BLOCK_BYTES = 4 * 1024 * 1024
CARRIED_CALLS_MAX = 200_000  # unanswered calls remembered across blocks

# Where a carried CALL's frame is: (source file, line, message id). The file and
# line alone are not enough across appends: a log rotated under one name
# (a cron job's `today.jsonl`) can leave open calls at the same line of the same
# path in two runs, and only the message id tells the earlier run's frame from
# this run's.
Where = tuple[str, int, str]
NON_SPLITTABLE_GROUP = 20_000  # reader items per in-process block
DRAIN_ROWS = 10_000  # rows the in-order pass derives (sessions, ...) written per batch
MIN_PARALLEL_BYTES = 16 * 1024 * 1024  # below this, worker start-up costs more than it saves


@dataclass(frozen=True, slots=True)
class IngestOptions:
    """How to read the logs and what to write.

    Attributes:
        format: force a reader (a key of ``readers.READERS``); None = sniff per file.
        version: OCPP version of logs that do not say it; None = guess per file.
        charge_point_id: charger id for logs that do not name it.
        side: who wrote the logs ("csms" or "cs"), for relative direction words.
        leg: for a bridge journal, read only the "downstream" (chargers') or
            "upstream" (CSMS) leg; None reads both (and counts each session
            twice: once per version).
        salt: hash id tokens (sessions and payloads) with this salt; None = keep them.
        workers: worker processes (default: CPU count; 1 = all in this process).
        block_bytes: size of the blocks a large file is cut into.
        tables: which tables to write (default all).
        overwrite: replace tables already in the dataset directory.
        append: add the logs to the dataset already in the directory, carrying on
            the state its last run ended with (:mod:`ocppkit.toolkit.ingest.state`);
            logs it already holds (same content) are skipped.
        progress: a progress bar (bytes) on stderr: True always, None only when
            stderr is a terminal, False never.
    """

    format: str | None = None
    version: str | None = None
    charge_point_id: str | None = None
    side: str = "csms"
    leg: str | None = None
    salt: bytes | None = None
    workers: int | None = None
    block_bytes: int = BLOCK_BYTES
    tables: frozenset[str] = frozenset(model.TABLES)
    overwrite: bool = False
    append: bool = False
    progress: bool | None = False


@dataclass(slots=True)
class IngestSummary:
    """What a run read and wrote, and every anomaly it counted."""

    files: dict[str, str] = field(default_factory=dict)  # file -> format used
    # --append: file -> the file already in the dataset with the same content (not read)
    already_ingested: dict[str, str] = field(default_factory=dict)
    bytes: int = 0
    rows: dict[str, int] = field(default_factory=dict)  # table -> rows written
    quarantine_reasons: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)  # records not read by choice (--leg)
    flags: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    workers: int = 1
    # Where the time went (seconds; not written to _summary.json): "read" (the file
    # into blocks, this process), "parse" and "derive" (the blocks' lines into
    # events, the events into rows: summed over the workers, so CPU seconds),
    # "derive_in_order" (matching across blocks, sessions, faults: this process),
    # "write" (Parquet, this process) and "wait" (this process waiting on workers).
    stages: dict[str, float] = field(default_factory=dict)

    @property
    def frames(self) -> int:
        return self.rows.get("frames", 0)

    @property
    def quarantined(self) -> int:
        return self.rows.get("quarantine", 0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "files": self.files, "bytes": self.bytes, "rows": self.rows,
            "quarantine_reasons": self.quarantine_reasons, "skipped": self.skipped,
            "flags": self.flags,
            "seconds": round(self.seconds, 3), "workers": self.workers,
        }  # fmt: skip

    def lines(self) -> list[str]:
        """The summary as short human-readable lines."""
        rate = self.frames / self.seconds if self.seconds else 0.0
        out = [
            f"skipped {f}: already in the dataset (same content as {old})"
            for f, old in self.already_ingested.items()
        ]
        out += [
            f"read {len(self.files)} file(s), {self.bytes / 1e6:.1f} MB in {self.seconds:.1f} s "
            f"({rate:,.0f} frames/s, {self.workers} process(es))",
            "rows: " + ", ".join(f"{k} {v:,}" for k, v in self.rows.items()),
        ]
        if self.skipped:
            out.append(
                "skipped by choice: " + ", ".join(f"{n:,} x {r}" for r, n in self.skipped.items())
            )
        if self.quarantine_reasons:
            top = sorted(self.quarantine_reasons.items(), key=lambda kv: -kv[1])
            out.append("quarantined: " + "; ".join(f"{n:,} x {r}" for r, n in top[:8]))
        if self.flags:
            out.append("flags: " + ", ".join(f"{k} {v:,}" for k, v in sorted(self.flags.items())))
        return out


class _Run:
    """The stateful, in-order half of a run (this process)."""

    def __init__(self, out: Path, options: IngestOptions, summary: IngestSummary) -> None:
        self.options = options
        self.summary = summary
        # Unique per run, so the files of runs appending to one dataset never collide.
        part = time.strftime("%Y%m%dT%H%M%S") + f"-{secrets.token_hex(3)}"
        self.part = part
        self.writers = {n: TableWriter(out, n, part) for n in model.TABLES if n in options.tables}
        self.sessions = SessionAssembler(token_hasher(options.salt))
        self.carried: dict[duplicates.Key, duplicates.Call] = {}  # unanswered at block ends
        # Where each carried call is (file, line, message id: see Where), and the calls
        # no result answered.
        self.located_calls: dict[duplicates.Key, Where] = {}
        self.unanswered: set[Where] = set()
        # --append: calls carried from the dataset's last run (flagged unanswered then),
        # and those of them a result of this run answered (their flag is taken off).
        self.restored_calls: set[Where] = set()
        self.answered_late: set[Where] = set()
        self.restored_frames: pa.Table | None = None  # the last run's open frames
        self.last_ts: dict[str | None, int] = {}
        self.flags: Counter[str] = Counter()
        self.reasons: Counter[str] = Counter()
        self.skipped: Counter[str] = Counter()
        self.stages: defaultdict[str, float] = defaultdict(float)

    def restore(self, data: dict[str, Any], open_files: Sequence[Path]) -> None:
        import pyarrow.parquet as pq

        self.carried, self.located_calls = state.restore(data, self.sessions, self.options.salt)
        self.restored_calls = set(self.located_calls.values())
        frames = [pq.read_table(p, schema=model.FRAMES) for p in open_files
                  if "frames" in p.parts]  # fmt: skip
        self.restored_frames = pa.concat_tables(frames) if frames else None

    def _write(
        self, name: str, batch: pa.RecordBatch | pa.Table,
        writers: dict[str, TableWriter] | None = None,
    ) -> None:  # fmt: skip
        writer = (self.writers if writers is None else writers).get(name)
        if writer is not None:
            started = time.perf_counter()
            writer.write(batch)
            self.stages["write"] += time.perf_counter() - started

    def take(self, res: BlockResult, source_file: str) -> None:
        started, writing = time.perf_counter(), self.stages["write"]
        for stage, seconds in res.seconds.items():
            self.stages[stage] += seconds
        self._take(res, source_file)
        spent = time.perf_counter() - started - (self.stages["write"] - writing)
        self.stages["derive_in_order"] += spent

    def _take(self, res: BlockResult, source_file: str) -> None:
        patches: dict[int, dict[str, Any]] = {}
        handle = self.sessions.handle
        for ev in res.control:
            if ev[0] != "unres":
                handle(ev)
                continue
            _, row, key, ts, mtype, payload, cp = ev
            call = self.carried.pop(key, None)
            where = self.located_calls.pop(key, None)
            if where is not None and where in self.restored_calls:
                self.answered_late.add(where)
            if call is None:
                _flag(patches, row, "orphan_result")
                self.flags["orphan_result"] += 1
                continue
            action, call_ts, call_dir, _ = call
            fix: dict[str, Any] = {"matched_action": action}
            ts, call_ts = as_us(ts), as_us(call_ts)
            if ts is not None and call_ts is not None:
                fix["latency_ms"] = (ts - call_ts) / 1000.0
            if key[1] is None and call_dir is not None:
                fix["direction"] = REVERSE[call_dir]
            patches.setdefault(row, {}).update(fix)
            if action == "StartTransaction":
                handle(("res", row, cp, action, key[2], mtype, payload))
        before = set(self.carried)
        for row in duplicates.across_blocks(self.carried, res.frames, res.call_rows):
            _flag(patches, row, "duplicate_message_id")
            self.flags["duplicate_message_id"] += 1
        # Carried calls a new CALL superseded were never answered (their rows are written).
        for key in before - set(self.carried):
            self.unanswered.add(self.located_calls.pop(key))
        lines = res.frames.column("line").to_numpy(zero_copy_only=False)
        for key, call in res.open_calls.items():  # across_blocks took off what these supersede
            self.carried[key] = call
            self.located_calls[key] = (source_file, int(lines[call[3]]), key[2])
        while len(self.carried) > CARRIED_CALLS_MAX:
            forgotten = next(iter(self.carried))
            self.carried.pop(forgotten)
            self.located_calls.pop(forgotten, None)
            self.flags["unanswered_calls_forgotten"] += 1
        for cp, (first, row, last) in res.clocks.items():
            prev = self.last_ts.get(cp)
            if prev is not None and first < prev - CLOCK_JUMP_US:
                _flag(patches, row, "clock_jump")
                self.flags["clock_jump"] += 1
            self.last_ts[cp] = last
        for name, count in res.counts.items():
            if count:
                self.flags[name] += count
        frames = _patched(res.frames, patches) if patches else res.frames
        self._write("frames", frames)
        for batch in self._located(res):
            self._write("meter_values", batch)
        self._write("status_events", res.status_events)
        if res.quarantine:
            self._quarantine(res.quarantine, source_file)
        if len(self.sessions.rows) >= DRAIN_ROWS or len(self.sessions.meter_rows) >= DRAIN_ROWS:
            self._drain()

    def _located(self, res: BlockResult) -> list[pa.RecordBatch]:
        """The block's meter_values batches, the rows of transaction frames that name
        no EVSE given their session's (found while handling the block's events)."""
        located = self.sessions.located
        if not located:
            return res.meter_values
        frame_rows, evse, conn = zip(*located, strict=True)
        lines = res.frames.column("line").to_numpy(zero_copy_only=False)
        at = lines[np.asarray(frame_rows, dtype=np.int64)]
        located.clear()
        return [with_evse(b, at, list(evse), list(conn)) for b in res.meter_values]

    def _quarantine(self, items: list[Bad], source_file: str) -> None:
        kept = []
        for item in items:
            if item.reason.startswith(SKIPPED):
                self.skipped[item.reason.removeprefix(SKIPPED)] += 1
            else:
                kept.append(item)
                self.reasons[_reason_kind(item.reason)] += 1
        items = kept
        if not items:
            return
        self._write("quarantine", pa.RecordBatch.from_arrays(
            [pa.array([source_file] * len(items), pa.string()),
             pa.array([b.line for b in items], pa.int64()),
             pa.array([b.reason for b in items], pa.string()),
             pa.array([b.text for b in items], pa.string())],
            schema=model.QUARANTINE,
        ))  # fmt: skip

    def _drain(self, writers: dict[str, TableWriter] | None = None) -> None:
        if self.sessions.meter_rows:
            self._write("meter_values", register_batch(self.sessions.meter_rows), writers)
            self.sessions.meter_rows.clear()
        for name, rows, schema in (
            ("sessions", self.sessions.rows, model.SESSIONS),
            ("faults", self.sessions.faults.rows, model.FAULTS),
        ):
            if rows:
                cols = list(zip(*rows, strict=True))
                arrays = [pa.array(list(c), f.type) for c, f in zip(cols, schema, strict=True)]
                self._write(name, pa.RecordBatch.from_arrays(arrays, schema=schema), writers)
                rows.clear()

    def close(self, out: Path) -> None:
        started = time.perf_counter()
        self._drain()
        # The state the next --append carries on from, then what is open written out as
        # rows of their own files (the next --append replaces them).
        open_state = state.snapshot(
            self.sessions, self.carried, self.located_calls, self.options.salt
        )
        self.sessions.finish()
        open_part = f"{state.OPEN_PART}-{self.part}"
        open_writers = {
            n: TableWriter(out, n, open_part) for n in state.OPEN_TABLES if n in self.writers
        }
        self._drain(open_writers)
        closing = time.perf_counter()
        for writer in self.writers.values():
            writer.close()
        for name, writer in open_writers.items():
            if name != "frames" and writer.rows:
                writer.close()
                self.writers[name].rows += writer.rows
        if "frames" in self.writers:
            self._settle_frames(out, open_writers["frames"])
        if self.options.tables == frozenset(model.TABLES):  # what --append can carry on
            state.write_open(out, open_state)
        self.stages["write"] += time.perf_counter() - closing
        self.stages["derive_in_order"] += closing - started
        self.summary.stages = {k: round(v, 4) for k, v in self.stages.items()}
        self.summary.rows = {n: w.rows for n, w in self.writers.items()}
        self.flags.update({k: v for k, v in self.sessions.counts.items() if k != "sessions"})
        self.summary.flags = dict(sorted(self.flags.items()))
        self.summary.quarantine_reasons = dict(self.reasons.most_common())
        self.summary.skipped = dict(self.skipped.most_common())

    def _settle_frames(self, out: Path, open_writer: TableWriter) -> None:
        """Flag the CALLs no result answered, and move those that may still be answered
        (carried at the end) into open files, with the open frames of the last run
        that this run did not answer (see :mod:`ocppkit.toolkit.ingest.state`)."""
        still_open = set(self.located_calls.values())
        # Superseded calls of this run were never answered (those restored were flagged
        # by the run they were read in).
        final = {w[:2] for w in self.unanswered - self.restored_calls}
        mine = sorted((out / "frames").rglob(f"part-{self.part}-*.parquet"))
        move = {w[:2] for w in still_open - self.restored_calls}
        flagged, moved = settle_unanswered(mine, final, move)
        self.flags["unanswered_call"] += flagged
        open_writer.write(moved)
        if self.restored_frames is not None and self.restored_frames.num_rows:
            old = self.restored_frames
            where = list(zip(old.column("source_file").to_pylist(),
                             old.column("line").to_pylist(),
                             old.column("message_id").to_pylist(), strict=True))  # fmt: skip
            keep = pa.array([w in still_open for w in where])
            open_writer.write(old.filter(keep))
            done = old.filter(pc.invert(keep))
            if done.num_rows:
                late = [w in self.answered_late for w in where if w not in still_open]
                flags = [_drop_flag(f, "unanswered_call") if answered else f
                         for f, answered in zip(done.column("flags").to_pylist(), late,
                                                strict=True)]  # fmt: skip
                index = done.schema.get_field_index("flags")
                done = done.set_column(index, done.schema.field(index),
                                       pa.array(flags, pa.string()))  # fmt: skip
                settled = TableWriter(out, "frames", f"{self.part}-settled")
                settled.write(done)
                settled.close()
        if open_writer.rows:
            open_writer.close()


def settle_unanswered(
    paths: Sequence[Path], flag: set[tuple[str, int]], move: set[tuple[str, int]]
) -> tuple[int, pa.Table]:
    """Add ``unanswered_call`` to the frames at ``flag`` | ``move`` (source file, line)
    in the files ``paths`` (one run's, just written); the rows at ``move`` are taken
    out of the files and returned.

    These CALLs were written before the log's end showed that no result came;
    only the files holding one are read and written again. Returns how many
    rows were flagged, and the rows taken out.
    """
    import pyarrow.parquet as pq

    wanted = flag | move
    moved: list[pa.Table] = []
    flagged = 0
    if not wanted:
        return 0, model.FRAMES.empty_table()
    candidate_lines = pa.array(sorted({n for _, n in wanted}), pa.int64())
    for path in paths:
        keys = pq.read_table(path, columns=["source_file", "line"])
        if keys.num_rows == 0:
            continue
        near = pc.indices_nonzero(pc.is_in(keys.column("line"), value_set=candidate_lines))
        if len(near) == 0:
            continue
        picked = keys.take(near)
        hits = {
            i: (f, n)
            for i, f, n in zip(near.to_pylist(), picked.column("source_file").to_pylist(),
                               picked.column("line").to_pylist(), strict=True)
            if (f, n) in wanted
        }  # fmt: skip
        if not hits:
            continue
        flagged += len(hits)
        # Batch by batch into a new file, so memory stays bounded whatever the file's size.
        order = sorted(hits)
        seen = 0
        source = pq.ParquetFile(path)
        schema = source.schema_arrow
        index = schema.get_field_index("flags")
        partial = path.with_suffix(".rewrite")
        with pq.ParquetWriter(partial, schema, compression="zstd") as sink:
            for batch in source.iter_batches(batch_size=65536):
                rows = [i - seen for i in order if seen <= i < seen + batch.num_rows]
                out = [r for r in rows if hits[seen + r] in move]
                seen += batch.num_rows
                if rows:
                    flags = batch.column(index).to_pylist()
                    for r in rows:
                        flags[r] = _merge_flags(flags[r], "unanswered_call")
                    columns = list(batch.columns)
                    columns[index] = pa.array(flags, pa.string())
                    batch = pa.RecordBatch.from_arrays(columns, schema=schema)
                if out:
                    moved.append(pa.Table.from_batches([batch.take(pa.array(out, pa.int64()))]))
                    gone = set(out)
                    stay = [r for r in range(batch.num_rows) if r not in gone]
                    batch = batch.take(pa.array(stay, pa.int64()))
                sink.write_batch(batch)
        partial.replace(path)
    return flagged, pa.concat_tables(moved) if moved else model.FRAMES.empty_table()


def _merge_flags(old: str | None, new: str) -> str:
    """Flags found in different passes, one list in name order (wherever blocks were cut)."""
    names = {*(old.split(",") if old else ()), *new.split(",")}
    return ",".join(sorted(names))


def _drop_flag(old: str | None, name: str) -> str | None:
    names = [n for n in (old.split(",") if old else ()) if n != name]
    return ",".join(names) or None


def _flag(patches: dict[int, dict[str, Any]], row: int, name: str) -> None:
    fix = patches.setdefault(row, {})
    fix["flags"] = f"{fix['flags']},{name}" if "flags" in fix else name


def _reason_kind(reason: str) -> str:
    """A reason without its variable detail, for counting (the table keeps the full text)."""
    head = reason.split(": line ", 1)[0]
    return head.split(": ", 2)[0] if head.startswith(("not JSON", "frame is not")) else head


def _patched(batch: pa.RecordBatch, patches: dict[int, dict[str, Any]]) -> pa.RecordBatch:
    names = ("direction", "matched_action", "latency_ms", "flags")
    columns = {n: batch.column(n).to_pylist() for n in names}
    for row, fix in patches.items():
        for name, value in fix.items():
            if name == "flags" and columns["flags"][row]:
                value = _merge_flags(columns["flags"][row], value)
            columns[name][row] = value
    arrays = [
        pa.array(columns[f.name], f.type) if f.name in columns else batch.column(i)
        for i, f in enumerate(batch.schema)
    ]
    return pa.RecordBatch.from_arrays(arrays, schema=batch.schema)


def _prepare(out: Path, options: IngestOptions) -> dict[str, Any] | None:
    """Make ``out`` ready; the open state to carry on from when appending."""
    existing = [n for n in model.TABLES if (out / n).exists()]
    if options.append and options.overwrite:
        raise ConfigError("--append and --overwrite cannot go together")
    if options.append and existing:
        if options.tables != frozenset(model.TABLES):
            raise ConfigError("--append writes every table")
        carried = state.read_open(out)
        if carried is None:
            raise ConfigError(
                f"{out} has no ingest state to append to (made by an older ocppkit?); "
                "ingest its logs again"
            )
        return carried
    if existing and not options.overwrite:
        raise ConfigError(
            f"{out} already holds table(s) {', '.join(existing)}; use --overwrite to replace them"
        )
    for name in existing:
        shutil.rmtree(out / name)
    if existing:
        shutil.rmtree(out / state.STATE_DIR, ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)
    return None


def ingest(
    paths: Sequence[str | Path], out: str | Path, options: IngestOptions | None = None
) -> IngestSummary:
    """Read ``paths`` into the dataset directory ``out``.

    Args:
        paths: log files (plain or gzipped), read in this order (give a
            charger's files oldest first: sessions may span files).
        out: the dataset directory (created; see :mod:`ocppkit.toolkit.ingest.model`).
        options: see :class:`IngestOptions`.

    Returns:
        The run's :class:`IngestSummary` (also written to ``out/_summary.json``).

    Raises:
        ConfigError: a file is missing or its format cannot be recognised, or
            ``out`` already holds a dataset and ``overwrite`` is off.
    """
    options = options or IngestOptions()
    files = [Path(p) for p in paths]
    for path in files:
        if not path.is_file():
            raise ConfigError(f"{path}: no such file")
    if options.format is not None:
        get_reader(options.format)
    out = Path(out)
    carried = _prepare(out, options)
    started = time.perf_counter()
    summary = IngestSummary()
    files, hashes = _new_files(out, files, summary, options.append)
    if options.append and not files:
        return summary  # nothing new: the dataset is left as it was
    total = sum(p.stat().st_size for p in files)
    workers = options.workers or os.cpu_count() or 1
    if total < MIN_PARALLEL_BYTES:
        workers = 1
    summary.workers = workers
    pool = _pool(workers) if workers > 1 else None
    bar = _progress(total, options.progress) if options.progress is not False else None
    run = _Run(out, options, summary)
    replaced = state.open_files(out) if carried is not None else []
    if carried is not None:
        run.restore(carried, replaced)
    try:
        for path in files:
            _one_file(path, options, run, pool, workers, bar)
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
        if bar is not None:
            bar.close()
    run.close(out)
    for path in replaced:  # the rows of what was open: carried on and written again
        path.unlink()
    summary.bytes = total
    summary.seconds = time.perf_counter() - started
    if options.tables == frozenset(model.TABLES):
        state.write_files(out, {**state.read_files(out), **hashes})
    name = "_summary.json" if carried is None else f"_summary-{run.part}.json"
    (out / name).write_bytes(orjson.dumps(summary.to_dict(), option=orjson.OPT_INDENT_2))
    return summary


def _new_files(
    out: Path, files: list[Path], summary: IngestSummary, append: bool
) -> tuple[list[Path], dict[str, str]]:
    """``files`` less, when appending, those whose content the dataset (or an earlier
    one of ``files``) already holds, noted in ``summary.already_ingested``; and the
    hashes of the files to read."""
    known = state.read_files(out) if append else {}
    new, hashes = [], {}
    for path in files:
        digest = state.file_hash(path)
        if append and digest in known:
            summary.already_ingested[str(path)] = known[digest]
            continue
        known[digest] = str(path)
        hashes[digest] = str(path)
        new.append(path)
    return new, hashes


def _pool(workers: int) -> ProcessPoolExecutor:
    """Worker processes, started now (before any thread of ours exists).

    fork where the platform has it: workers start in milliseconds and need no
    ``if __name__ == "__main__"`` guard in the caller's script; spawn elsewhere.
    """
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    pool = ProcessPoolExecutor(workers, mp_context=context)
    for future in [pool.submit(int) for _ in range(workers)]:
        future.result()
    return pool


def _progress(total: int, enabled: bool | None) -> Any:
    from tqdm import tqdm

    from ocppkit.toolkit.progress import shown

    # None: no bar when stderr is not a terminal (logs, CI, pipes); True: a bar anyway.
    return tqdm(total=total, unit="B", unit_scale=True, desc="ingest", leave=False,
                disable=not shown(enabled))  # fmt: skip


def _one_file(
    path: Path, options: IngestOptions, run: _Run, pool: ProcessPoolExecutor | None,
    workers: int, bar: Any,
) -> None:  # fmt: skip
    name = str(path)
    run.last_ts.clear()  # clock jumps are judged within one log, not across two logs
    with _open(path) as (stream, raw):
        blocks = _timed(_blocks(stream, options.block_bytes), run.stages)
        first = next(blocks, None)
        if first is None:
            run.summary.files[name] = "empty"
            return
        fmt = options.format or detect(_first_lines(first[1]))
        if fmt is None:
            raise ConfigError(f"{path}: cannot tell the log format; give --format")
        run.summary.files[name] = fmt
        reader = get_reader(fmt)
        version = options.version
        if version is None and fmt in GUESS_VERSION:
            version = guess_version(first[1])
        ropts = ReaderOptions(version, options.charge_point_id, options.side, name, options.leg)
        position = 0

        def advance() -> None:
            nonlocal position
            if bar is not None:
                now = raw.tell()
                bar.update(now - position)
                position = now

        def all_blocks() -> Iterator[tuple[int, bytes]]:
            yield first
            yield from blocks

        if not reader.SPLITTABLE:
            items = reader.read(
                (pair for b in all_blocks() for pair in lines_of(b[1], b[0])), ropts
            )
            group: list[Any] = []
            for item in items:
                group.append(item)
                if len(group) >= NON_SPLITTABLE_GROUP:
                    run.take(build_block(group, name, options.salt), name)
                    group = []
                    advance()
            run.take(build_block(group, name, options.salt), name)
            advance()
            return
        jobs = (BlockJob(fmt, ropts, blob, line, options.salt) for line, blob in all_blocks())
        if pool is None:
            for job in jobs:
                run.take(process_job(job), name)
                advance()
            return
        window: deque[Future[BlockResult]] = deque()
        for job in jobs:
            window.append(pool.submit(process_job, job))
            if len(window) > workers:  # one block queued per worker: memory stays bounded
                run.take(_waited(window.popleft(), run.stages), name)
                advance()
        while window:
            run.take(_waited(window.popleft(), run.stages), name)
            advance()


def _timed(
    blocks: Iterator[tuple[int, bytes]], stages: defaultdict[str, float]
) -> Iterator[tuple[int, bytes]]:
    """``blocks``, the time spent reading each counted as ``stages["read"]``."""
    while True:
        started = time.perf_counter()
        block = next(blocks, None)
        stages["read"] += time.perf_counter() - started
        if block is None:
            return
        yield block


def _waited(future: Future[BlockResult], stages: defaultdict[str, float]) -> BlockResult:
    started = time.perf_counter()
    result = future.result()
    stages["wait"] += time.perf_counter() - started
    return result
