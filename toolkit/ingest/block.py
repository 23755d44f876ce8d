"""One block of a log -> Arrow batches and the events the stateful pass needs.

This is the part of ingestion that parallelises: a block (a few MB of lines
of one file) is read and turned into the frames, meter_values and
status_events rows without knowing anything outside it. Calls and their
results are matched inside the block; what only the whole log can decide
(a result whose call is in an earlier block, sessions, fault intervals,
clock jumps across blocks) goes back to the parent as small control entries,
in line order, for :mod:`ocppkit.toolkit.ingest.pipeline` and
:mod:`ocppkit.toolkit.ingest.sessions`.

Per frame, only what must be Python is Python: the timestamps are cast,
latencies and clock jumps computed, and meter values flattened with Arrow
after the loop.

Control entries (first element is the kind):

* ``("status", row, cp, version, evse, conn, ts, connector_status, charging_state,
  error_code, vendor_error_code, info)`` — a StatusNotification;
* ``["call", row, cp, version, action, ts, payload, summary, msg_id]`` — a
  StartTransaction, StopTransaction, TransactionEvent or NotifyEvent CALL
  (for a StartTransaction, ``summary`` is its meterStart row,
  :class:`ocppkit.toolkit.ingest.rows.StartRegister`, which waits in the parent for
  the transaction id the answer brings; the meter_values rows of a
  StopTransaction, or of a TransactionEvent naming no EVSE, get their
  session's EVSE and connector in the parent, :func:`ocppkit.toolkit.ingest.rows.with_evse`);
* ``["mv", row, cp, version, evse, tx, summary]`` — MeterValues; those naming a
  transaction are merged into one entry per transaction per block (at the
  first one's place), so the parent's work does not grow with the samples;
* ``("res", row, cp, action, msg_id, mtype, payload)`` — the answer to a
  StartTransaction matched in the block;
* ``("unres", row, key, ts, mtype, payload, cp)`` — a result or error whose
  call is not in the block.

Duplicate message ids are judged by :mod:`ocppkit.toolkit.ingest.duplicates` here
for calls within the block, and by the parent for a CALL whose id an
earlier block left open (``call_rows``).

``summary = (first register Wh, last register Wh, max power W, {context: Wh},
decreases)`` where ``decreases`` counts register readings lower than the one
before within the summary.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import orjson
import pyarrow as pa

from ocppkit.toolkit.ingest import meter_vector, model, vocab
from ocppkit.toolkit.ingest.duplicates import still_open
from ocppkit.toolkit.ingest.events import CS_TO_CSMS, CSMS_TO_CS, REVERSE, Bad, FrameEvent, parse_ts
from ocppkit.toolkit.ingest.flatten import MeterColumns, evse_of
from ocppkit.toolkit.ingest.privacy import hash_token, redact
from ocppkit.toolkit.ingest.readers import ReaderOptions, get_reader
from ocppkit.toolkit.ingest.rows import (
    Group,
    as_us,
    invalid_json,
    meter_batch,
    source_column,
    start_register,
    stateful_rows,
    status_batch,
    status_row,
    transaction_event_rows,
    vector_groups,
)  # fmt: skip
from ocppkit.toolkit.ingest.source import lines_of

STATEFUL_CALLS = frozenset(
    {"StartTransaction", "StopTransaction", "TransactionEvent", "NotifyEvent"}
)
STATUS_OR_STATEFUL = STATEFUL_CALLS | {"StatusNotification"}
CLOCK_JUMP_US = 1_000_000  # a charger's log time going back by more than 1 s
CLOCK_SKEW_US = 300_000_000  # payload time vs log time differing by more than 5 min

Key = tuple[str | None, str | None, str]


@dataclass(frozen=True, slots=True)
class BlockJob:
    reader: str
    options: ReaderOptions
    blob: bytes
    first_line: int
    salt: bytes | None = None


@dataclass(slots=True)
class BlockResult:
    frames: pa.RecordBatch
    meter_values: list[pa.RecordBatch]
    status_events: pa.RecordBatch
    quarantine: list[Bad]
    control: list[Sequence[Any]]  # tuples, or lists whose summary was filled in later
    open_calls: dict[Key, tuple[Any, Any, str | None, int]]  # call -> (action, ts, dir, row)
    clocks: dict[str | None, tuple[int, int, int]]  # cp -> (first ts, its row, last ts)
    counts: dict[str, int] = field(default_factory=dict)
    call_rows: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))  # duplicates
    nbytes: int = 0
    seconds: dict[str, float] = field(default_factory=dict)  # stage -> time in the worker


def process_job(job: BlockJob) -> BlockResult:
    """Read and build one block (runs in a worker process).

    Python's cyclic garbage collector is paused meanwhile: a block allocates
    hundreds of thousands of tuples and lists, none of them in a cycle
    (reference counting frees them all), and each collection the allocations
    trigger would walk the block's live rows for nothing (measured: about 5%
    of the block's time).
    """
    paused = gc.isenabled()
    gc.disable()
    try:
        return _process(job)
    finally:
        if paused:
            gc.enable()


def _process(job: BlockJob) -> BlockResult:
    reader = get_reader(job.reader)
    read_block = getattr(reader, "read_block", None)  # optional: a reader that scans blocks
    clock = time.perf_counter
    started = clock()
    # Parsed in full before building, so the two stages are timed apart
    # (``ocppkit bench ingest`` reports the split); a block is a few MB.
    items = list(
        read_block(job.blob, job.first_line, job.options) if read_block is not None
        else reader.read(lines_of(job.blob, job.first_line), job.options)
    )  # fmt: skip
    parsed = clock()
    result = build_block(items, job.options.source_file, job.salt)
    built = clock()
    parse_s, derive_s = parsed - started, built - parsed
    if job.reader == "journal" and result.counts.get("invalid_payload"):
        # The journal's fast path hands payloads over unchecked; one was not JSON.
        # Read the block again the general way, so such a line is quarantined
        # exactly as it is when the general path meets it first.
        from ocppkit.toolkit.ingest.readers.journal import read_general

        again = clock()
        items = list(read_general(lines_of(job.blob, job.first_line), job.options))
        parsed = clock()
        result = build_block(items, job.options.source_file, job.salt)
        parse_s, derive_s = parse_s + parsed - again, derive_s + clock() - parsed
    result.nbytes = len(job.blob)
    result.seconds = {"parse": parse_s, "derive": derive_s}
    return result


def build_block(
    items: Iterable[FrameEvent | Bad], source_file: str, salt: bytes | None = None
) -> BlockResult:
    """Turn reader output into the block's rows, matches and control entries."""
    rows: list[tuple[Any, ...]] = []  # one tuple per frame, transposed into columns at the end
    flags: dict[int, str] = {}  # row -> anomalies (few rows have any)
    pairs: list[tuple[int, int]] = []  # (result row, call row)
    status_rows: list[tuple[Any, ...]] = []
    meters = MeterColumns()
    quarantine: list[Bad] = []
    control: list[Sequence[Any]] = []
    pending: dict[Key, tuple[Any, Any, str | None, int]] = {}
    opened: list[int] = []  # rows of CALLs whose id had no unanswered CALL in the block
    counts = dict.fromkeys(("duplicate_message_id", "clock_jump", "clock_skew"), 0)
    groups: dict[tuple[str, str], Group] = {}
    dumps = orjson.dumps
    cs_actions = vocab.CS_ACTIONS
    lazy: list[tuple[int, bytes]] = []  # payloads kept as text, to check in one go
    loads = orjson.loads
    row = -1
    for ev in items:
        if isinstance(ev, Bad):
            quarantine.append(ev)
            continue
        ts, cp, direction, version, mtype, mid, action, payload_in, line, _ = ev
        payload: Any = payload_in
        row += 1
        flag = matched = None
        # A reader may hand the payload over as JSON text; it is parsed only if needed.
        pj = payload if type(payload) is bytes else None
        out_dir = direction
        if mtype == 2:
            key = (cp, direction, mid)
            earlier = pending.get(key)
            if earlier is None:
                opened.append(row)  # checked against earlier blocks' calls by the parent
            else:
                # The new CALL takes over the id: no result in the log answers the earlier one.
                flags[earlier[3]] = _add(flags.get(earlier[3]), "unanswered_call")
                counts["unanswered_call"] = counts.get("unanswered_call", 0) + 1
                if still_open(earlier[1], ts):
                    flag = "duplicate_message_id"
                    counts["duplicate_message_id"] += 1
            if out_dir is None:
                out_dir = CS_TO_CSMS if action in cs_actions else CSMS_TO_CS
            pending[key] = (action, ts, out_dir, row)
            if action == "MeterValues":
                if pj is None:
                    pj = dumps(payload)
                else:
                    payload = None
                entry = ["mv", row, cp, version, None, None, None]  # evse, tx: from the parse
                control.append(entry)
                g = groups.get((version, action))
                if g is None:
                    g = groups[(version, action)] = Group(6)
                g.add(cp, None, None, None, line, pj, payload, entry)
            elif action in STATUS_OR_STATEFUL or salt is not None:
                if pj is not None:
                    try:
                        payload = loads(pj)
                    except orjson.JSONDecodeError:
                        payload, flag = {}, _add(flag, "invalid_payload")
                        counts["invalid_payload"] = counts.get("invalid_payload", 0) + 1
                if action == "StatusNotification":
                    srow = status_row(ev, payload)
                    status_rows.append(srow)
                    control.append(("status", row, cp, version, srow[2], srow[3], srow[0],
                                    srow[4], srow[5], srow[7], srow[8], srow[9]))  # fmt: skip
                elif action in STATEFUL_CALLS:
                    ev = ev._replace(payload=payload)
                    us = as_us(ts)
                    entry = ["call", row, cp, version, action, us, payload, None, mid]
                    control.append(entry)
                    if action == "TransactionEvent" and version in vocab.V2X:
                        transaction_event_rows(ev, status_rows)
                        if type(payload.get("meterValue")) is list:
                            g = groups.get((version, action))
                            if g is None:
                                g = groups[(version, action)] = Group(7)
                            evse, conn = evse_of(version, payload)
                            tx = (payload.get("transactionInfo") or {}).get("transactionId")
                            tx = str(tx) if tx is not None else None  # as sessions has it
                            pj = pj or dumps(payload)
                            g.add(cp, evse, conn, tx, line, pj, payload, entry)
                    elif action == "StartTransaction":
                        entry[7] = start_register(ev, source_file)
                    else:
                        entry[7] = stateful_rows(ev, meters, status_rows)
                    stamp = payload.get("timestamp")
                    if us is not None and isinstance(stamp, str) and not payload.get("offline"):
                        pts = parse_ts(stamp)
                        if pts is not None and abs(pts - us) > CLOCK_SKEW_US:
                            flag = _add(flag, "clock_skew")
                            counts["clock_skew"] += 1
                if salt is not None:
                    pj = dumps(redact(payload, salt))
            elif pj is not None and pj != b"{}":
                lazy.append((row, pj))
        else:
            key = (cp, REVERSE.get(direction), mid)  # type: ignore[arg-type]
            call = pending.pop(key, None)
            if call is not None:
                matched = call[0]
                pairs.append((row, call[3]))
                if out_dir is None and call[2] is not None:
                    out_dir = REVERSE[call[2]]
                if matched == "StartTransaction":
                    control.append(("res", row, cp, matched, mid, mtype, _parsed(payload)))
            else:
                control.append(("unres", row, key, ts, mtype, _parsed(payload), cp))
            if salt is not None:
                pj = dumps(redact(_parsed(payload), salt))
            elif pj is not None and pj != b"{}":
                lazy.append((row, pj))
        if flag is not None:
            flags[row] = flag
        rows.append((ts, cp, out_dir, version, mtype, mid, action,
                     pj if pj is not None else dumps(payload), matched, line))  # fmt: skip
    vector_batches, non_numeric, invalid = vector_groups(groups, meters, source_file)
    counts["non_numeric_meter_values"] = meters.non_numeric + non_numeric
    for i in [*invalid, *invalid_json(lazy)]:
        flags[i] = _add(flags.get(i), "invalid_payload")
        counts["invalid_payload"] = counts.get("invalid_payload", 0) + 1
    n = len(rows)
    columns: list[Any] = list(zip(*rows, strict=True)) if rows else [()] * 10
    f_ts, f_cp, f_dir, f_ver, f_type, f_id, f_action, f_payload, f_matched, f_line = columns
    f_flags: list[str | None] = [None] * n
    for i, value in flags.items():
        f_flags[i] = value
    ts_array = _frame_timestamps(f_ts)
    if ts_array.null_count > list(f_ts).count(None):  # text the log calls a time but is none
        for i in np.flatnonzero(ts_array.is_null().to_numpy(zero_copy_only=False)).tolist():
            if f_ts[i] is not None:
                f_flags[i] = (
                    "bad_timestamp" if f_flags[i] is None else f"{f_flags[i]},bad_timestamp"
                )
                counts["bad_timestamp"] = counts.get("bad_timestamp", 0) + 1
    ts_us = ts_array.cast(pa.int64()).to_numpy(zero_copy_only=False)
    latency = _latencies(ts_us, pairs, n)
    cp_array = pa.array(f_cp, pa.string())
    clocks = _clock_checks(ts_us, cp_array, f_flags, counts)
    frames = pa.RecordBatch.from_arrays(
        [
            ts_array, cp_array, pa.array(f_dir, pa.string()),
            pa.array(f_ver, pa.string()), pa.array(f_type, pa.int8()), pa.array(f_id, pa.string()),
            pa.array(f_action, pa.string()), pa.array(f_payload, pa.string()),
            pa.array(f_matched, pa.string()), latency,
            pa.array(f_flags, pa.string()), source_column(source_file, n),
            pa.array(f_line, pa.int64()),
        ],
        schema=model.FRAMES,
    )  # fmt: skip
    return BlockResult(
        frames=frames,
        meter_values=[*vector_batches, meter_batch(meters, source_file, salt)],
        status_events=status_batch(status_rows, source_file),
        quarantine=quarantine,
        control=_merge_meter_entries(control),
        open_calls=pending,
        clocks=clocks,
        counts=counts,
        call_rows=np.array(opened, dtype=np.int64),
    )


def _add(flags: str | None, flag: str) -> str:
    return flag if flags is None else f"{flags},{flag}"


def _parsed(payload: Any) -> Any:
    """A payload a reader handed over as JSON text, parsed ({} if it is not JSON)."""
    if type(payload) is not bytes:
        return payload
    try:
        return orjson.loads(payload)
    except orjson.JSONDecodeError:
        return {}


def _frame_timestamps(values: list[Any]) -> pa.Array:
    """Log timestamps (epoch microseconds, or RFC 3339 text from journals) as an Arrow column."""
    kinds = {type(v) for v in values if v is not None}
    if not kinds or kinds == {int}:
        return pa.array(values, model.TS)
    if kinds == {str}:
        return meter_vector.timestamps(values)
    return pa.array([as_us(v) for v in values], model.TS)


def _latencies(ts_us: np.ndarray, pairs: list[tuple[int, int]], n: int) -> pa.Array:
    """latency_ms of each matched result (result time - call time); null elsewhere."""
    out = np.full(n, np.nan)
    if pairs:
        res, call = np.asarray(pairs, dtype=np.int64).T
        a, b = ts_us[res], ts_us[call]
        ok = ~(np.isnan(a.astype(float)) | np.isnan(b.astype(float)))
        out[res[ok]] = (a[ok].astype(np.int64) - b[ok].astype(np.int64)) / 1000.0
    return pa.array(out, pa.float64(), mask=np.isnan(out))


def _clock_checks(
    ts_us: np.ndarray, cps: pa.Array, flags: list[str | None], counts: dict[str, int]
) -> dict[str | None, tuple[int, int, int]]:
    """Flag rows whose log time goes back > 1 s for their charger.

    Returns (first time, its row, last time) per charger, for the checks across blocks.
    """
    valid = ~np.isnan(ts_us.astype(float))
    rows = np.flatnonzero(valid)
    if not len(rows):
        return {}
    enc = cps.dictionary_encode()
    names = [*enc.dictionary.to_pylist(), None]
    codes = enc.indices.fill_null(len(names) - 1).to_numpy(zero_copy_only=False)[rows]
    ts = ts_us[rows].astype(np.int64)
    order = np.argsort(codes, kind="stable")
    c, t, r = codes[order], ts[order], rows[order]
    same = np.r_[False, c[1:] == c[:-1]]
    jumps = same & np.r_[False, t[1:] < t[:-1] - CLOCK_JUMP_US]
    for row in r[jumps].tolist():
        flags[row] = "clock_jump" if flags[row] is None else f"{flags[row]},clock_jump"
        counts["clock_jump"] += 1
    starts = np.flatnonzero(~same)
    ends = np.r_[starts[1:] - 1, len(c) - 1]
    return {
        names[code]: (first, row, last)
        for code, first, row, last in zip(
            c[starts].tolist(),
            t[starts].tolist(),
            r[starts].tolist(),
            t[ends].tolist(),
            strict=True,
        )
    }


def _merge_meter_entries(control: list[Sequence[Any]]) -> list[Sequence[Any]]:
    """One "mv" entry per (charger, transaction) per block, at the first one's place.

    The summaries fold in order: first register of the first, last of the last,
    the largest power, Transaction.Begin/End marks, and a count of readings
    lower than the one before.
    """
    out: list[Sequence[Any]] = []
    merged: dict[tuple[Any, Any], list[Any]] = {}
    for entry in control:
        if entry[0] != "mv" or entry[5] is None or entry[6] is None:
            out.append(entry)
            continue
        key = (entry[2], entry[5])
        head = merged.get(key)
        first, last, power, marks = entry[6][:4]
        drops = 1 if first is not None and last is not None and last < first else 0
        if head is None:
            merged[key] = head = [*entry[:6], [first, last, power, dict(marks), drops]]
            out.append(head)
            continue
        s = head[6]
        if first is not None:
            if s[1] is not None and first < s[1]:
                drops += 1
            if s[0] is None:
                s[0] = first
            s[1] = last
        if power is not None and (s[2] is None or power > s[2]):
            s[2] = power
        for context, wh in marks.items():
            if context == "Transaction.Begin":
                s[3].setdefault(context, wh)
            else:
                s[3][context] = wh
        s[4] += drops
    return out


def token_hasher(salt: bytes | None) -> Any:
    """id token -> stored value (hashed when a salt is given)."""
    if salt is None:
        return lambda token: token
    return lambda token: hash_token(salt, token) if isinstance(token, str) else token
