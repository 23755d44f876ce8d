"""Row builders of one block: status rows, transaction rows, meter batches.

The stateless half of :mod:`ocppkit.toolkit.ingest.block`: what a single frame
contributes to status_events and meter_values, and the Arrow batches of
those tables. Meter values of MeterValues and TransactionEvent frames go
through :mod:`ocppkit.toolkit.ingest.meter_vector` a group at a time; everything else
through :class:`ocppkit.toolkit.ingest.flatten.MeterColumns`.
"""

from __future__ import annotations

import io
from typing import Any, NamedTuple

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

from ocppkit.toolkit.ingest import meter_vector, model, vocab
from ocppkit.toolkit.ingest.events import FrameEvent, parse_ts
from ocppkit.toolkit.ingest.flatten import MeterColumns, evse_of
from ocppkit.translators.versions import OcppVersion


def source_column(name: str, n: int) -> pa.DictionaryArray:
    """A column holding one file name ``n`` times (dictionary-encoded: no copies)."""
    return pa.DictionaryArray.from_arrays(
        pa.array(np.zeros(n, dtype=np.int32)), pa.array([name], pa.string())
    )


def as_us(ts: Any) -> int | None:
    """A reader's timestamp (epoch microseconds or RFC 3339 text) as epoch microseconds."""
    return parse_ts(ts) if isinstance(ts, str) else ts


class Group:
    """The MeterValues / TransactionEvent payloads of one (version, action) in a block."""

    __slots__ = ("conn", "control", "cp", "evse", "json", "line", "payloads", "slot", "tx")

    def __init__(self, slot: int) -> None:
        self.cp: list[str | None] = []
        self.evse: list[Any] = []
        self.conn: list[Any] = []
        self.tx: list[str | None] = []
        self.line: list[int] = []
        self.json: list[bytes] = []
        self.payloads: list[dict[str, Any] | None] = []  # None: only the JSON text is known
        self.control: list[list[Any]] = []
        self.slot = slot  # index of the summary in the control entry

    def add(
        self, cp: str | None, evse: Any, conn: Any, tx: Any, line: int, text: bytes,
        payload: dict[str, Any] | None, entry: list[Any],
    ) -> None:  # fmt: skip
        self.cp.append(cp)
        self.evse.append(evse)
        self.conn.append(conn)
        self.tx.append(tx)
        self.line.append(line)
        self.json.append(text)
        self.payloads.append(payload)
        self.control.append(entry)


def vector_groups(
    groups: dict[tuple[str, str], Group], meters: MeterColumns, source_file: str
) -> tuple[list[pa.RecordBatch], int, list[int]]:
    """Flatten each group with Arrow (Python fallback); fill the control entries.

    MeterValues entries get their evse and transaction id here too (from the
    same parse), so a reader may hand their payloads over unparsed.

    Returns:
        (meter_values batches, non-numeric sample count, rows whose payload is
        not valid JSON).
    """
    batches: list[pa.RecordBatch] = []
    non_numeric = 0
    invalid: list[int] = []
    for (version, action), g in groups.items():
        try:
            cols = meter_vector.flatten_group(g.json, version, action)
        except meter_vector.Unreadable:
            invalid += _python_group(g, version, action, meters)
            continue
        if action == "MeterValues":
            g.evse, g.conn, g.tx = meter_vector.ids(cols["ids"], version)
            for entry, evse, tx in zip(g.control, g.evse, g.tx, strict=True):
                entry[4], entry[5] = evse, tx
        non_numeric += cols["non_numeric"]
        for entry, summary in zip(
            g.control, meter_vector.summaries(cols, len(g.json)), strict=True
        ):
            entry[g.slot] = summary
        n = len(cols["frame"])
        batches.append(meter_vector.batch(cols, g.cp, g.evse, g.conn, g.tx, action, version,
                                          g.line, source_column(source_file, n)))  # fmt: skip
    return batches, non_numeric, invalid


def _python_group(g: Group, version: str, action: str, meters: MeterColumns) -> list[int]:
    """The one-sample-at-a-time path, for a group Arrow could not read."""
    key = "values" if version == OcppVersion.V15 else "meterValue"
    invalid = []
    for i, entry in enumerate(g.control):
        p = g.payloads[i]
        if p is None:
            try:
                p = orjson.loads(g.json[i])
            except orjson.JSONDecodeError:
                invalid.append(entry[1])
                continue
        if action == "MeterValues":
            evse, conn = evse_of(version, p)
            tx = p.get("transactionId")
            g.evse[i], g.conn[i], g.tx[i] = evse, conn, str(tx) if tx is not None else None
            entry[4], entry[5] = evse, g.tx[i]
        values = p.get(key)
        entry[g.slot] = meters.samples(
            values if type(values) is list else [], version, g.cp[i], g.evse[i], g.conn[i],
            g.tx[i], action, g.line[i],
        )  # fmt: skip
    return invalid


def invalid_json(items: list[tuple[int, bytes]]) -> list[int]:
    """Rows of payloads handed over unparsed that are not JSON objects (checked in one go)."""
    if not items:
        return []
    data = b"\n".join(p for _, p in items)
    try:
        options = pj.ReadOptions(block_size=max(1 << 20, len(data) + 1), use_threads=False)
        pj.read_json(io.BytesIO(data), read_options=options, parse_options=_ANY)
        return []
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        pass
    bad = []
    for row, payload in items:
        try:
            ok = type(orjson.loads(payload)) is dict
        except orjson.JSONDecodeError:
            ok = False
        if not ok:
            bad.append(row)
    return bad


_ANY = pj.ParseOptions(explicit_schema=pa.schema([]), unexpected_field_behavior="ignore")


def status_row(ev: FrameEvent, p: dict[str, Any]) -> tuple[Any, ...]:
    evse, conn = evse_of(ev.version, p)
    wire = p.get("connectorStatus") if ev.version in vocab.V2X else p.get("status")
    cstatus, cstate = (
        vocab.connector_state(ev.version, wire) if isinstance(wire, str) else (None, None)
    )
    stamp = p.get("timestamp")
    ts = parse_ts(stamp) if isinstance(stamp, str) else None
    return (ts if ts is not None else as_us(ev.ts), ev.cp, evse, conn, cstatus, cstate, wire,
            p.get("errorCode"), p.get("vendorErrorCode"), p.get("info"), "StatusNotification",
            ev.version, ev.line)  # fmt: skip


def transaction_event_rows(ev: FrameEvent, status_rows: list[tuple[Any, ...]]) -> Any:
    """The status row of a TransactionEvent that reports a charging state; its transaction id."""
    p: Any = ev.payload
    info = p.get("transactionInfo") or {}
    state = info.get("chargingState")
    if state is not None:
        evse, conn = evse_of(ev.version, p)
        stamp = p.get("timestamp")
        ts = parse_ts(stamp) if isinstance(stamp, str) else as_us(ev.ts)
        status_rows.append((ts, ev.cp, evse, conn, None, state, state, None, None, None,
                            "TransactionEvent", ev.version, ev.line))  # fmt: skip
    tx = info.get("transactionId")
    return str(tx) if tx is not None else None


def stateful_rows(ev: FrameEvent, meters: MeterColumns, status_rows: list[tuple[Any, ...]]) -> Any:
    """meter_values and status rows of a transaction-bearing CALL; its meter summary."""
    p: Any = ev.payload
    version, action = ev.version, ev.action
    evse, conn = evse_of(version, p)
    if action == "TransactionEvent":
        tx = transaction_event_rows(ev, status_rows)
        mvs = p.get("meterValue")
        if type(mvs) is list:
            return meters.samples(mvs, version, ev.cp, evse, conn, tx, action, ev.line)
        return None
    if action == "StopTransaction":
        tx = p.get("transactionId")
        tx = str(tx) if tx is not None else None
        data = p.get("transactionData")
        summary = None
        if type(data) is list:
            mvs = (
                [v for d in data for v in (d.get("values") or [])]
                if version == OcppVersion.V15
                else data
            )
            summary = meters.samples(mvs, version, ev.cp, None, None, tx, action, ev.line)
        wh = p.get("meterStop")
        if isinstance(wh, int | float) and wh >= 0:
            meters.register(p.get("timestamp"), ev.cp, None, None, tx, action, version, ev.line,
                            float(wh), "Transaction.End")  # fmt: skip
        return summary
    return None


def start_register(ev: FrameEvent, source_file: str) -> StartRegister | None:
    """The meterStart reading of a 1.5/1.6 StartTransaction, its transaction id still unknown.

    The request has no transactionId: the CSMS assigns it in the answer (1.6
    §6.46 StartTransaction.conf), which may come in a later block. So the row
    is not built here but handed to the in-order pass
    (:class:`ocppkit.toolkit.ingest.sessions.SessionAssembler`), which fills in the id
    its session gets and hands it back for :func:`register_batch`.
    """
    p: Any = ev.payload
    wh = p.get("meterStart")
    if not isinstance(wh, int | float):
        return None
    evse, conn = evse_of(ev.version, p)
    stamp = p.get("timestamp")
    return StartRegister(stamp if isinstance(stamp, str) else None, ev.cp, evse, conn, None,
                         ev.version, source_file, ev.line, float(wh))  # fmt: skip


class StartRegister(NamedTuple):
    """A meterStart meter_values row waiting for its transaction id (see start_register)."""

    timestamp: str | None
    cp: str | None
    evse: int | None
    conn: int | None
    tx: str | None
    version: str
    source_file: str
    line: int
    wh: float


def register_batch(rows: list[StartRegister]) -> pa.RecordBatch:
    """The meter_values rows of meterStart readings (with their transaction ids filled in)."""
    n = len(rows)
    cols: list[Any] = list(zip(*rows, strict=True)) if rows else [()] * 9
    ts, cp, evse, conn, tx, version, source, line, wh = cols

    def const(value: Any, type_: pa.DataType) -> pa.Array:
        return pa.repeat(pa.scalar(value, type_), n)

    return pa.RecordBatch.from_arrays(
        [
            meter_vector.timestamps(list(ts)), pa.array(cp, pa.string()),
            pa.array(evse, pa.int32()), pa.array(conn, pa.int32()), pa.array(tx, pa.string()),
            const(vocab.ENERGY_REGISTER, pa.string()), const(None, pa.string()),
            const(vocab.DEFAULT_LOCATION, pa.string()), const("Wh", pa.string()),
            pa.array(wh, pa.float64()), const("Transaction.Begin", pa.string()),
            const(False, pa.bool_()), const("StartTransaction", pa.string()),
            pa.array(version, pa.string()),
            pa.array(source, pa.string()).dictionary_encode(), pa.array(line, pa.int64()),
        ],
        schema=model.METER_VALUES,
    )  # fmt: skip


def with_evse(
    batch: pa.RecordBatch, lines: np.ndarray, evse: list[int], conn: list[int | None]
) -> pa.RecordBatch:
    """``batch`` with the EVSE and connector of the frames at ``lines`` filled in.

    The frames are transaction frames that name no EVSE (a 1.5/1.6
    StopTransaction, a 2.0.1 TransactionEvent after the first); the values are
    their sessions' (:attr:`ocppkit.toolkit.ingest.sessions.SessionAssembler.located`).
    A frame's rows are known by its source line: every reader gives a frame the
    line it starts on, and no two frames of a file start on one line. Only rows
    with no EVSE of their own are filled.
    """
    if not len(lines) or not batch.num_rows:
        return batch
    order = np.argsort(lines, kind="stable")
    sorted_lines = lines[order]
    source = batch.column("line").to_numpy(zero_copy_only=False)
    at = np.minimum(np.searchsorted(sorted_lines, source), len(sorted_lines) - 1)
    no_evse = batch.column("evse_id").is_null().to_numpy(zero_copy_only=False)
    hit = (sorted_lines[at] == source) & no_evse
    if not hit.any():
        return batch
    which = order[at[hit]].tolist()
    mask = pa.array(hit)
    columns = {
        "evse_id": pc.replace_with_mask(
            batch.column("evse_id"), mask, pa.array([evse[i] for i in which], pa.int32())
        ),
        "connector_id": pc.replace_with_mask(
            batch.column("connector_id"), mask, pa.array([conn[i] for i in which], pa.int32())
        ),
    }
    return pa.RecordBatch.from_arrays(
        [columns.get(f.name, batch.column(i)) for i, f in enumerate(batch.schema)],
        schema=batch.schema,
    )


def meter_batch(m: MeterColumns, source_file: str, salt: bytes | None) -> pa.RecordBatch:
    counts = np.asarray(m.g_count, dtype=np.int64)
    idx = pa.array(np.repeat(np.arange(len(counts)), counts))
    n = len(m.value)

    def rep(values: list[Any], type_: pa.DataType) -> pa.Array:
        return pa.array(values, type_).take(idx)

    return pa.RecordBatch.from_arrays(
        [
            meter_vector.timestamps(m.g_ts).take(idx),
            rep(m.g_cp, pa.string()),
            rep(m.g_evse, pa.int32()),
            rep(m.g_conn, pa.int32()),
            rep(m.g_tx, pa.string()),
            pa.array(m.measurand, pa.string()),
            pa.array(m.phase, pa.string()),
            pa.array(m.location, pa.string()),
            pa.array(m.unit, pa.string()),
            pa.array(m.value, pa.float64()),
            pa.array(m.context, pa.string()),
            pa.array(m.signed, pa.bool_()),
            rep(m.g_action, pa.string()),
            rep(m.g_version, pa.string()),
            source_column(source_file, n),
            rep(m.g_line, pa.int64()),
        ],
        schema=model.METER_VALUES,
    )


def status_batch(rows: list[tuple[Any, ...]], source_file: str) -> pa.RecordBatch:
    cols: list[Any] = list(zip(*rows, strict=True)) if rows else [[] for _ in range(13)]
    schema = model.STATUS_EVENTS
    arrays = [pa.array(list(cols[i]), schema.field(i).type) for i in range(12)]
    arrays.insert(12, source_column(source_file, len(rows)))
    arrays.append(pa.array(list(cols[12]), pa.int64()))
    return pa.RecordBatch.from_arrays(arrays, schema=schema)
