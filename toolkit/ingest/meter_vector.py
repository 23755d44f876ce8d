"""Meter values without a Python object per sample: Arrow's JSON reader + compute.

MeterValues (and 2.0.1 TransactionEvent) frames are most of a real log and
each carries many sampled values. Reading them one dict at a time costs
microseconds per sample; here the payloads of a block are handed to
``pyarrow.json`` in one piece with an explicit schema per version, and the
nested lists are flattened, defaulted and unit-normalised with Arrow compute
kernels. The rules are those of :mod:`ocppkit.toolkit.ingest.flatten` (same defaults,
same :data:`ocppkit.toolkit.ingest.vocab.UNITS` table); a group that Arrow cannot
read (a charger sending a number where the schema says text, say) falls back
to that module, so the result never depends on which path ran.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

from ocppkit.toolkit.ingest import model, vocab
from ocppkit.toolkit.ingest.events import parse_ts
from ocppkit.translators.versions import OcppVersion

_S = pa.string()


def _sv(version: str) -> pa.DataType:
    if version in vocab.V2X:
        return pa.struct([
            ("value", pa.float64()), ("context", _S), ("measurand", _S), ("phase", _S),
            ("location", _S), ("signedMeterValue", pa.struct([("signedMeterData", _S)])),
            ("unitOfMeasure", pa.struct([("unit", _S), ("multiplier", pa.int64())])),
        ])  # fmt: skip
    return pa.struct([
        ("value", _S), ("context", _S), ("format", _S), ("measurand", _S), ("phase", _S),
        ("location", _S), ("unit", _S),
    ])  # fmt: skip


def _schema(version: str, action: str) -> pa.Schema:
    samples = "value" if version == OcppVersion.V15 else "sampledValue"
    entry = pa.struct([("timestamp", _S), (samples, pa.list_(_sv(version)))])
    key = "values" if version == OcppVersion.V15 else "meterValue"
    fields: list[tuple[str, pa.DataType]] = [(key, pa.list_(entry))]
    if action == "MeterValues":
        fields += (
            [("evseId", pa.int64())] if version in vocab.V2X
            else [("connectorId", pa.int64()), ("transactionId", pa.int64())]
        )  # fmt: skip
    return pa.schema(fields)


def ids(table_cols: dict[str, Any], version: str) -> tuple[list[Any], list[Any], list[Any]]:
    """(evse, connector, transaction id) per MeterValues payload, by the rules of
    :func:`ocppkit.toolkit.ingest.flatten.evse_of` (1.6 connector N = EVSE N, connector 1)."""
    if version in vocab.V2X:
        evse = table_cols["evseId"]
        return evse, [None] * len(evse), [None] * len(evse)
    conn = table_cols["connectorId"]
    return (
        conn,
        [None if c is None else (1 if c > 0 else None) for c in conn],
        [None if t is None else str(t) for t in table_cols["transactionId"]],
    )


_UNIT_KEYS = pa.array(list(vocab.UNITS), _S)
_UNIT_NAMES = pa.array([v[0] for v in vocab.UNITS.values()], _S)
_UNIT_FACTORS = pa.array([v[1] for v in vocab.UNITS.values()], pa.float64())
_NUMBER = r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$"


def timestamps(values: pa.Array | list[Any]) -> pa.Array:
    """RFC 3339 text -> timestamp[us, UTC]; unreadable ones become null."""
    arr = values if isinstance(values, pa.Array) else pa.array(values, _S)
    try:
        return arr.cast(model.TS)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return pa.array([parse_ts(v) if isinstance(v, str) else None for v in arr.to_pylist()],
                        model.TS)  # fmt: skip


def _field(arr: Any, name: str) -> Any:
    return pc.struct_field(arr, name)


class Unreadable(Exception):
    """Arrow could not read the group with the expected schema."""


def flatten_group(payloads: list[bytes], version: str, action: str) -> dict[str, Any]:
    """Flatten the meter values of many payloads of one (version, action).

    Returns:
        ``frame`` (index into ``payloads`` per row), ``timestamp`` (text),
        and the row-level arrays measurand, phase, location, unit, value,
        context, signed; plus ``non_numeric`` (count).

    Raises:
        Unreadable: the group does not fit the schema; use the Python path.
    """
    key = "values" if version == OcppVersion.V15 else "meterValue"
    samples = "value" if version == OcppVersion.V15 else "sampledValue"
    data = b"\n".join(payloads)
    try:
        table = pj.read_json(
            io.BytesIO(data),
            read_options=pj.ReadOptions(block_size=max(1 << 20, len(data) + 1), use_threads=False),
            parse_options=pj.ParseOptions(
                explicit_schema=_schema(version, action), unexpected_field_behavior="ignore"
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise Unreadable(str(exc)) from None
    frame_ids = {
        name: table.column(name).to_pylist()
        for name in ("evseId", "connectorId", "transactionId")
        if name in table.column_names
    }
    mv = table.column(key).combine_chunks()
    entry_frame = pc.list_parent_indices(mv)
    entries = pc.list_flatten(mv)
    sv = _field(entries, samples)
    row_entry = pc.list_parent_indices(sv)
    rows = pc.list_flatten(sv)
    frame = pc.take(entry_frame, row_entry)
    stamps = pc.take(_field(entries, "timestamp"), row_entry)
    measurand = pc.fill_null(_field(rows, "measurand"), vocab.DEFAULT_MEASURAND)
    context = pc.fill_null(_field(rows, "context"), vocab.DEFAULT_CONTEXT)
    location = pc.fill_null(_field(rows, "location"), vocab.DEFAULT_LOCATION)
    if version in vocab.V2X:
        uom = _field(rows, "unitOfMeasure")
        unit = pc.fill_null(_field(uom, "unit"), vocab.DEFAULT_UNIT)
        mult = pc.fill_null(_field(uom, "multiplier"), 0)
        signed = pc.is_valid(_field(rows, "signedMeterValue"))
        raw = _field(rows, "value")
        numeric = pc.is_valid(raw)
    else:
        unit = pc.fill_null(_field(rows, "unit"), vocab.DEFAULT_UNIT)
        mult = None
        signed = pc.fill_null(pc.equal(_field(rows, "format"), "SignedData"), False)
        text = _field(rows, "value")
        numeric = pc.fill_null(pc.match_substring_regex(text, _NUMBER), False)
        raw = pc.cast(pc.if_else(numeric, text, pa.scalar(None, _S)), pa.float64())
    where = pc.index_in(unit, value_set=_UNIT_KEYS)
    factor = pc.fill_null(pc.take(_UNIT_FACTORS, where), 1.0)
    norm_unit = pc.coalesce(pc.take(_UNIT_NAMES, where), unit)
    value = pc.multiply(raw, factor)
    if mult is not None:
        value = pc.multiply(value, pc.power(10.0, pc.cast(mult, pa.float64())))
    value = pc.if_else(signed, pa.scalar(None, pa.float64()), value)
    non_numeric = int(pc.sum(pc.and_(pc.invert(numeric), pc.invert(signed))).as_py() or 0)
    return {
        "frame": frame, "timestamp": stamps, "measurand": measurand,
        "phase": _field(rows, "phase"), "location": location, "unit": norm_unit, "value": value,
        "context": context, "signed": signed, "non_numeric": non_numeric, "ids": frame_ids,
    }  # fmt: skip


def summaries(cols: dict[str, Any], frames: int) -> list[Any]:
    """Per payload: (first register Wh, last register Wh, max power W, {context: Wh}) or None.

    The same summary :meth:`ocppkit.toolkit.ingest.flatten.MeterColumns.samples` returns.
    """
    out: list[Any] = [None] * frames
    frame = cols["frame"].to_numpy(zero_copy_only=False)
    value = cols["value"]
    base = pc.and_(pc.is_valid(value), pc.is_null(cols["phase"]))
    reg = pc.fill_null(pc.and_(base, pc.equal(cols["measurand"], vocab.ENERGY_REGISTER)), False)
    pow_ = pc.fill_null(pc.and_(base, pc.equal(cols["measurand"], vocab.POWER_IMPORT)), False)
    values = value.to_numpy(zero_copy_only=False)
    reg_np = reg.to_numpy(zero_copy_only=False)
    pow_np = pow_.to_numpy(zero_copy_only=False)
    first: dict[int, float] = {}
    last: dict[int, float] = {}
    power: dict[int, float] = {}
    rf, rv = frame[reg_np], values[reg_np]
    if len(rf):
        uniq, first_pos = np.unique(rf, return_index=True)
        _, last_rev = np.unique(rf[::-1], return_index=True)
        last_pos = len(rf) - 1 - last_rev
        first = dict(zip(uniq.tolist(), rv[first_pos].tolist(), strict=True))
        last = dict(zip(uniq.tolist(), rv[last_pos].tolist(), strict=True))
        # A Transaction.Begin sample (a StopTransaction's transactionData) is the
        # old baseline, not the latest reading: "first" skips it when the payload
        # has any other register sample (as flatten.MeterColumns.samples does).
        is_begin = pc.fill_null(pc.equal(cols["context"], "Transaction.Begin"), False)
        later = pc.and_(reg, pc.invert(is_begin)).to_numpy(zero_copy_only=False)
        lf, lv = frame[later], values[later]
        if len(lf):
            luniq, lfirst = np.unique(lf, return_index=True)
            first.update(zip(luniq.tolist(), lv[lfirst].tolist(), strict=True))
    pf, pv = frame[pow_np], values[pow_np]
    if len(pf):
        order = np.lexsort((pv, pf))
        pf, pv = pf[order], pv[order]
        ends = np.r_[np.nonzero(np.diff(pf))[0], len(pf) - 1]
        power = dict(zip(pf[ends].tolist(), pv[ends].tolist(), strict=True))
    marks: dict[int, dict[str, float]] = {}
    ctx = cols["context"]
    tx_mask = pc.and_(
        reg, pc.is_in(ctx, value_set=pa.array(["Transaction.Begin", "Transaction.End"]))
    )
    tx_np = tx_mask.to_numpy(zero_copy_only=False)
    if tx_np.any():
        for f, c, v in zip(frame[tx_np].tolist(), pc.filter(ctx, tx_mask).to_pylist(),
                           values[tx_np].tolist(), strict=True):  # fmt: skip
            marks.setdefault(f, {})[c] = v
    for f in set(first) | set(power):
        out[f] = (first.get(f), last.get(f), power.get(f), marks.get(f, {}))
    return out


def batch(
    cols: dict[str, Any], cp: list[Any], evse: list[Any], conn: list[Any], tx: list[Any],
    action: str, version: str, lines: list[int], source: pa.Array,
) -> pa.RecordBatch:  # fmt: skip
    """The meter_values rows of a flattened group (frame-level lists are per payload)."""
    idx = cols["frame"]
    n = len(idx)
    return pa.RecordBatch.from_arrays(
        [
            timestamps(cols["timestamp"]), pa.array(cp, _S).take(idx),
            pa.array(evse, pa.int32()).take(idx), pa.array(conn, pa.int32()).take(idx),
            pa.array(tx, _S).take(idx), cols["measurand"], cols["phase"], cols["location"],
            cols["unit"], cols["value"], cols["context"], cols["signed"],
            pa.repeat(pa.scalar(action, _S), n), pa.repeat(pa.scalar(version, _S), n), source,
            pa.array(lines, pa.int64()).take(idx),
        ],
        schema=model.METER_VALUES,
    )  # fmt: skip
