"""The canonical, version-independent model: one Parquet table per concern.

A dataset directory written by :func:`ocppkit.toolkit.ingest.ingest` holds::

    DATASET/
      frames/date=YYYY-MM-DD/part-*.parquet         every frame (hive-partitioned by UTC day
                                                    of the log time)
      meter_values/date=YYYY-MM-DD/part-*.parquet   one row per sampled value (day of the sample)
      sessions/date=YYYY-MM-DD/part-*.parquet       one row per transaction, any version (day of
                                                    start_time, else of stop_time)
      status_events/date=YYYY-MM-DD/part-*.parquet  connector status and charging-state changes
      faults/date=YYYY-MM-DD/part-*.parquet         fault intervals with durations (day of start)
      quarantine/part-*.parquet                     every line or frame that could not be used
      _summary.json                                 the run's counts (IngestSummary)
      _summary-RUN.json                             each --append run's counts
      _state/open.json, _state/files.json           what --append carries on from (see state.py)

``part-RUN-NNNNN.parquet`` files belong to the run ``RUN`` (a UTC time and a
random tag); ``part-open-RUN-*`` hold the rows of what was still open at the
end of that run (sessions, faults, meterStart rows, unanswered CALLs), which
the next ``--append`` replaces. So an append adds files to the partitions of
its logs' days and to those of the open rows it completes, and never changes
a file an earlier run wrote (``tests/ingest/test_append.py`` checks it file by
file). There is no charger partition: 5,000 chargers x 365 days would be
1.8 million small files a table, and a charger's day of frames is a few
hundred kB; readers filter chargers by the ``charge_point_id`` column.

Rows whose time is unknown (a bare frame log without timestamps) go to
``date=unknown``. DuckDB (``read_parquet('DATASET/frames/**/*.parquet',
hive_partitioning=true)``), pandas/pyarrow (``pyarrow.dataset.dataset(path,
partitioning='hive')``), polars (``scan_parquet(..., hive_partitioning=True)``)
and Spark (``spark.read.parquet(path)``) read the layout as it is, and prune
partitions from a filter on ``date`` (text ``YYYY-MM-DD``).

Conventions, chosen once for every table:

* timestamps are ``timestamp[us, tz=UTC]``; durations are float seconds;
* energies are Wh and powers W (kWh/kW and 2.0.1 ``multiplier`` are applied);
* transaction ids are strings (1.6 integers become their decimal text; the
  int64-max placeholder some chargers send stays exact);
* a 1.6 connector N is 2.0.1 EVSE N with connector 1 (the bridge's rule, see
  ``translators/charger16_csms201/command_kit.py``); 1.6 connector 0 is EVSE 0;
* vocabularies are 2.0.1's: ``stop_reason`` is a ReasonEnumType value,
  ``connector_status`` a ConnectorStatusEnumType value and ``charging_state``
  a ChargingStateEnumType value; the value as sent is kept beside it
  (``*_wire`` columns). The mappings are tables in :mod:`ocppkit.toolkit.ingest.vocab`.

Each field below carries its description (and unit) as Parquet field
metadata, so ``pyarrow.parquet.read_schema(...)`` documents the file itself.
"""

from __future__ import annotations

import pyarrow as pa

TS = pa.timestamp("us", tz="UTC")
STR = pa.string()
DICT_STR = pa.dictionary(pa.int32(), pa.string())


def _f(name: str, type_: pa.DataType, doc: str, unit: str = "") -> pa.Field:
    meta = {"description": doc}
    if unit:
        meta["unit"] = unit
    return pa.field(name, type_, metadata=meta)


FRAMES = pa.schema(
    [
        _f("timestamp", TS, "when the log line says the frame was sent/received (null if the "
           "log has no timestamps)"),
        _f("charge_point_id", STR, "charger identity (null if the log does not name it)"),
        _f("direction", STR, "cs_to_csms or csms_to_cs (null if the log does not say)"),
        _f("ocpp_version", STR, "1.5, 1.6 or 2.0.1"),
        _f("message_type", pa.int8(), "2 CALL, 3 CALLRESULT, 4 CALLERROR (1.5 SOAP: request 2, "
           "response 3, fault 4)"),
        _f("message_id", STR, "OCPP-J message id (1.5: WS-Addressing MessageID / RelatesTo)"),
        _f("action", STR, "the CALL's action; null for results and errors"),
        _f("payload", STR, "the payload as JSON text (CALLERROR: {errorCode, errorDescription, "
           "errorDetails}; 1.5: the SOAP body as a JSON object)"),
        _f("matched_action", STR, "for a CALLRESULT/CALLERROR: the action of its CALL; null when "
           "the CALL is not in the log (flag orphan_result)"),
        _f("latency_ms", pa.float64(), "CALLRESULT/CALLERROR timestamp minus its CALL's", "ms"),
        _f("flags", STR, "comma-separated anomalies: duplicate_message_id (a CALL id the same "
           "sender reused while its earlier CALL was unanswered and under 5 min old; see "
           "ocppkit.toolkit.ingest.duplicates), orphan_result (no CALL in the log), "
           "unanswered_call (a CALL no CALLRESULT/CALLERROR in the log answers), "
           "clock_jump (log time back > 1 s for this charger), "
           "clock_skew (payload time > 5 min from log time), "
           "bad_timestamp (unreadable time text)"),
        _f("source_file", DICT_STR, "the log file the frame came from"),
        _f("line", pa.int64(), "1-based line number in source_file (first line of a multi-line "
           "record)"),
    ]
)  # fmt: skip

METER_VALUES = pa.schema(
    [
        _f("timestamp", TS, "the sample's own timestamp (meterValue.timestamp)"),
        _f("charge_point_id", STR, "charger identity"),
        _f("evse_id", pa.int32(), "2.0.1 evseId / evse.id; 1.6 and 1.5 connectorId"),
        _f("connector_id", pa.int32(), "2.0.1 evse.connectorId; 1 for a 1.6/1.5 connector > 0"),
        _f("transaction_id", STR, "transaction id carried by the message (null if none: a 1.6 "
           "MeterValues without transactionId; sessions attributes those by connector)"),
        _f("measurand", STR, "measurand, default Energy.Active.Import.Register applied"),
        _f("phase", STR, "L1, L2, L3, N, L1-N, ... or null"),
        _f("location", STR, "Outlet (default), Inlet, Body, Cable, EV"),
        _f("unit", STR, "normalised unit: Wh, varh, VAh, W, var, VA, A, V, Celsius, K, "
           "Fahrenheit, Percent, Hertz, ..."),
        _f("value", pa.float64(), "value in `unit` (kWh->Wh, kW->W, 10^multiplier applied); null "
           "for SignedData or non-numeric text", "see unit"),
        _f("context", STR, "reading context, default Sample.Periodic applied"),
        _f("signed", pa.bool_(), "the sample is signed (1.6 format SignedData, 2.0.1 "
           "signedMeterValue)"),
        _f("source_action", STR, "MeterValues, TransactionEvent, StopTransaction, or "
           "StartTransaction/StopTransaction for the meterStart/meterStop registers"),
        _f("ocpp_version", STR, "1.5, 1.6 or 2.0.1"),
        _f("source_file", DICT_STR, "the log file"),
        _f("line", pa.int64(), "line of the frame in source_file"),
    ]
)  # fmt: skip

SESSIONS = pa.schema(
    [
        _f("charge_point_id", STR, "charger identity"),
        _f("evse_id", pa.int32(), "EVSE (1.6/1.5: connectorId)"),
        _f("connector_id", pa.int32(), "connector within the EVSE (1.6/1.5: 1)"),
        _f("transaction_id", STR, "transaction id as text (null if a 1.6 StartTransaction never "
           "got its answer and no StopTransaction named it)"),
        _f("id_token", STR, "1.6/1.5 idTag or 2.0.1 idToken.idToken (HMAC-SHA256 with the salt, "
           "hex, when hashing is on)"),
        _f("start_time", TS, "transaction start per the charger (StartTransaction.timestamp / "
           "TransactionEvent Started timestamp)"),
        _f("stop_time", TS, "transaction end per the charger; null while open at end of log"),
        _f("duration_s", pa.float64(), "stop_time - start_time", "s"),
        _f("energy_wh", pa.float64(), "meter_stop_wh - meter_start_wh", "Wh"),
        _f("meter_start_wh", pa.float64(), "energy register at start (1.6 meterStart; 2.0.1 "
           "Transaction.Begin register; else first register sample, flag missing_start_meter)",
           "Wh"),
        _f("meter_stop_wh", pa.float64(), "energy register at stop (1.6 meterStop; 2.0.1 "
           "Transaction.End register; else last register sample, flag missing_stop_meter)", "Wh"),
        _f("max_power_w", pa.float64(), "largest Power.Active.Import sample without phase during "
           "the session", "W"),
        _f("charging_s", pa.float64(), "time in charging state Charging between start and stop "
           "(1.6 status Charging, 2.0.1 chargingState Charging); null without state reports",
           "s"),
        _f("idle_s", pa.float64(), "duration_s - charging_s: plugged in, not charging", "s"),
        _f("stop_reason", STR, "2.0.1 ReasonEnumType (1.6 mapped by vocab.STOP_REASON_16; absent "
           "= Local per both specs)"),
        _f("stop_reason_wire", STR, "the reason as sent (null if absent)"),
        _f("ocpp_version", STR, "version the session was logged in"),
        _f("flags", STR, "comma-separated anomalies: missing_start_meter, missing_stop_meter, "
           "non_monotonic_energy, open_at_end, no_start_event, no_transaction_id, "
           "lossy_stop_reason, retried_start"),
    ]
)  # fmt: skip

STATUS_EVENTS = pa.schema(
    [
        _f("timestamp", TS, "status time per the charger (frame time if the payload has none)"),
        _f("charge_point_id", STR, "charger identity"),
        _f("evse_id", pa.int32(), "EVSE (1.6/1.5: connectorId; 0 = whole charger)"),
        _f("connector_id", pa.int32(), "connector within the EVSE"),
        _f("connector_status", STR, "2.0.1 ConnectorStatusEnumType (null for charging-state-only "
           "rows)"),
        _f("charging_state", STR, "2.0.1 ChargingStateEnumType implied or reported (null if none)"),
        _f("status_wire", STR, "status as sent (1.6 ChargePointStatus / 2.0.1 connectorStatus)"),
        _f("error_code", STR, "1.6/1.5 errorCode (NoError when fine); null in 2.0.1"),
        _f("vendor_error_code", STR, "1.6 vendorErrorCode"),
        _f("info", STR, "1.6 info"),
        _f("source_action", STR, "StatusNotification or TransactionEvent"),
        _f("ocpp_version", STR, "1.5, 1.6 or 2.0.1"),
        _f("source_file", DICT_STR, "the log file"),
        _f("line", pa.int64(), "line of the frame in source_file"),
    ]
)  # fmt: skip

FAULTS = pa.schema(
    [
        _f("charge_point_id", STR, "charger identity"),
        _f("evse_id", pa.int32(), "EVSE (0 or null = whole charger)"),
        _f("connector_id", pa.int32(), "connector within the EVSE"),
        _f("start_time", TS, "first report of the fault"),
        _f("end_time", TS, "when it cleared (null if still active at end of log)"),
        _f("duration_s", pa.float64(), "end_time - start_time", "s"),
        _f("error_code", STR, "1.6 errorCode, or 2.0.1 NotifyEvent techCode / component name"),
        _f("vendor_error_code", STR, "1.6 vendorErrorCode"),
        _f("info", STR, "1.6 info / 2.0.1 techInfo"),
        _f("status", STR, "connector status during the fault (2.0.1 vocabulary)"),
        _f("source_action", STR, "StatusNotification or NotifyEvent"),
        _f("reports", pa.int32(), "how many reports the interval merged"),
        _f("ocpp_version", STR, "1.5, 1.6 or 2.0.1"),
    ]
)  # fmt: skip

QUARANTINE = pa.schema(
    [
        _f("source_file", STR, "the log file"),
        _f("line", pa.int64(), "1-based line number"),
        _f("reason", STR, "why the line or frame could not be used"),
        _f("text", STR, "the line, cut to 1,000 characters"),
    ]
)  # fmt: skip

# table name -> (schema, partitioned by the UTC day of the first non-null of these
# timestamp columns, or not partitioned: ())
TABLES: dict[str, tuple[pa.Schema, tuple[str, ...]]] = {
    "frames": (FRAMES, ("timestamp",)),
    "meter_values": (METER_VALUES, ("timestamp",)),
    "sessions": (SESSIONS, ("start_time", "stop_time")),
    "status_events": (STATUS_EVENTS, ("timestamp",)),
    "faults": (FAULTS, ("start_time",)),
    "quarantine": (QUARANTINE, ()),
}

PARTITION_COLUMN = "date"
UNKNOWN_PARTITION = "unknown"


def describe() -> str:
    """The tables as Markdown (name, type, unit, description), for docs and reports."""
    out: list[str] = []
    for name, (schema, part) in TABLES.items():
        out.append(
            f"### {name}"
            + (
                f" (partitioned by {PARTITION_COLUMN}=UTC day of {' else '.join(part)})"
                if part
                else ""
            )
        )
        out.append("| column | type | unit | description |\n|---|---|---|---|")
        for field in schema:
            meta = {k.decode(): v.decode() for k, v in (field.metadata or {}).items()}
            out.append(
                f"| {field.name} | {field.type} | {meta.get('unit', '')} | {meta['description']} |"
            )
        out.append("")
    return "\n".join(out)
