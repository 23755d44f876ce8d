"""Open OCPP Trace v1.1: one JSON record per frame, a neutral exchange format.

A record (field findings §4) has ``schemaVersion``, ``timestamp``,
``transport`` (``json`` or ``soap``), ``direction`` (``cp-to-csms`` /
``csms-to-cp``) and ``messageType`` (``CALL``, ``CALLRESULT``,
``CALLERROR``); optionally ``ocppVersion``, ``chargePointId``,
``connectorId``, ``messageId``, ``action`` (required for a CALL),
``payload``, ``raw`` (the frame as sent), ``error`` and ``meta``. Results
carry no action: ingest matches them to their calls as for any log.

:func:`to_record` writes one (``ocppkit convert LOG --to trace``); reading
it back gives the same frames.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import orjson

from ocppkit.toolkit.ingest.events import (
    CALL,
    CALLERROR,
    CALLRESULT,
    CS_TO_CSMS,
    CSMS_TO_CS,
    Bad,
    FrameEvent,
    bad,
    decode_frame,
    frame_reason,
    parse_ts,
)
from ocppkit.toolkit.ingest.readers import ReaderOptions
from ocppkit.translators.errors import FrameError

NAME = "trace"
SPLITTABLE = True
SCHEMA_VERSION = "1.1"

DIRECTIONS = {"cp-to-csms": CS_TO_CSMS, "csms-to-cp": CSMS_TO_CS}
WIRE_DIRECTIONS = {v: k for k, v in DIRECTIONS.items()}
TYPES = {"CALL": CALL, "CALLRESULT": CALLRESULT, "CALLERROR": CALLERROR}
WIRE_TYPES = {v: k for k, v in TYPES.items()}
_VERSIONS = {"1.5": "1.5", "1.6": "1.6", "2.0.1": "2.0.1", "ocpp1.5": "1.5", "ocpp1.6": "1.6",
             "ocpp2.0.1": "2.0.1", "1.6j": "1.6", "2.1": "2.1", "ocpp2.1": "2.1"}  # fmt: skip


def sniff(lines: list[bytes]) -> float:
    hits = sum(
        1 for line in lines
        if line.startswith(b"{") and b'"schemaVersion"' in line and b'"messageType"' in line
    )  # fmt: skip
    return hits / len(lines) if lines else 0.0


def _message(obj: dict[str, Any], mtype: int) -> list[Any]:
    """The OCPP-J array a record describes (from ``raw`` when it has one)."""
    raw = obj.get("raw")
    if isinstance(raw, str) and raw.lstrip().startswith("["):
        decoded: list[Any] = orjson.loads(raw)
        return decoded
    mid = obj.get("messageId")
    if mtype == CALL:
        return [CALL, mid, obj.get("action"), obj.get("payload", {})]
    if mtype == CALLRESULT:
        return [CALLRESULT, mid, obj.get("payload", {})]
    error = obj.get("error") or {}
    return [
        CALLERROR, mid,
        error.get("code", error.get("errorCode", "GenericError")),
        error.get("description", error.get("errorDescription", "")),
        error.get("details", error.get("errorDetails", {})),
    ]  # fmt: skip


def read(lines: Iterable[tuple[int, bytes]], options: ReaderOptions) -> Iterator[FrameEvent | Bad]:
    for number, line in lines:
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            yield bad(number, f"not JSON: {exc}", line)
            continue
        if not isinstance(obj, dict) or "messageType" not in obj:
            yield bad(number, "not an Open OCPP Trace record (no messageType)", line)
            continue
        mtype = TYPES.get(str(obj.get("messageType")))
        direction = DIRECTIONS.get(str(obj.get("direction")))
        ts = parse_ts(obj["timestamp"]) if isinstance(obj.get("timestamp"), str) else None
        if mtype is None or direction is None or ts is None:
            yield bad(number, "Open OCPP Trace record: bad messageType, direction or timestamp",
                      line)  # fmt: skip
            continue
        raw_version = str(obj.get("ocppVersion") or "").lower()
        version = _VERSIONS.get(raw_version, options.version or "1.6")
        cp = obj.get("chargePointId")
        cp = str(cp) if cp else options.charge_point_id
        if obj.get("transport") == "soap":
            from ocppkit.toolkit.ingest.readers.soap15 import envelope_event

            raw = obj.get("raw")
            if not isinstance(raw, str):
                yield bad(number, "SOAP trace record without its envelope (raw)", line)
                continue
            event = envelope_event(raw, ts, cp, direction, number)
            if isinstance(event, str):
                yield bad(number, event, line)
            else:
                yield event
            continue
        try:
            frame = decode_frame(_message(obj, mtype))
        except (FrameError, orjson.JSONDecodeError) as exc:
            reason = frame_reason(exc) if isinstance(exc, FrameError) else f"raw: {exc}"
            yield bad(number, reason, line)
            continue
        m, mid, action, payload = frame
        yield FrameEvent(ts, cp, direction, version, m, mid, action, payload, number)


def to_record(
    ts: str, cp: str, direction: str, version: str, message: list[Any] | str
) -> dict[str, Any]:
    """One trace record of a frame (or a 1.5 SOAP envelope, ``message`` as text)."""
    record: dict[str, Any] = {
        "schemaVersion": SCHEMA_VERSION,
        "timestamp": ts,
        "transport": "soap" if isinstance(message, str) else "json",
        "direction": WIRE_DIRECTIONS[direction],
        "ocppVersion": version,
        "chargePointId": cp,
    }
    if isinstance(message, str):
        record["messageType"] = "CALLRESULT" if "RelatesTo" in message else "CALL"
        record["raw"] = message
        return record
    mtype = int(message[0])
    record["messageType"] = WIRE_TYPES[mtype]
    record["messageId"] = message[1]
    if mtype == CALL:
        record["action"], record["payload"] = message[2], message[3]
    elif mtype == CALLRESULT:
        record["payload"] = message[2]
    else:
        record["error"] = {"code": message[2], "description": message[3],
                           "details": message[4] if len(message) > 4 else {}}  # fmt: skip
    record["raw"] = orjson.dumps(message).decode()
    return record
