"""Plain OCPP-J frame logs: one frame per line, with or without a prefix.

Accepted line shapes (analysis-research §2, shapes 1, 2, 5, 6, 8, 9, 13):

* a bare frame: ``[2,"19","Heartbeat",{}]``;
* a prefixed frame: ``<time> [<direction>] [<charger>] <frame>`` in any
  order after the time, e.g. ``2026-03-02T07:15:20.118Z CS->CSMS CP-17
  [2,...]`` or OCTT's ``[2026-03-02T07:15:20:118] [msg-in] [2, ...]``;
  trailing non-JSON after the frame (Blink snoops) is ignored;
* a JSON object wrapping the frame under a known key (CitrineOS rows,
  evpanda records, ``{"t":..,"cp":..,"dir":..,"frame":[..]}``): the keys are
  the alias tables below.

Lines without a frame (log chatter, headers) are quarantined with the reason
"no OCPP-J frame on the line", so a reader of the summary sees them counted.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from typing import Any

import orjson

from ocppkit.toolkit.ingest.events import (
    CS_TO_CSMS,
    CSMS_TO_CS,
    REVERSE,
    Bad,
    FrameEvent,
    bad,
    decode_frame,
    frame_reason,
    parse_ts,
)  # fmt: skip
from ocppkit.toolkit.ingest.readers import ReaderOptions
from ocppkit.toolkit.ingest.readers.prefix import parse_prefix, received_direction
from ocppkit.translators.errors import FrameError

NAME = "frames"
SPLITTABLE = True

_FRAME_START = re.compile(rb'\[\s*[2-6]\s*,\s*"')
_SNIFF = re.compile(rb'\[\s*[2-6]\s*,\s*\\?"')  # also a frame escaped inside a JSON string
_DECODER = json.JSONDecoder()

# Wrapped-object key aliases (first match wins).
TS_KEYS = ("timestamp", "captured_at", "t", "ts", "time")
CP_KEYS = ("charge_point_id", "stationId", "charger_id", "chargeBoxId", "cp", "station_id")
DIR_KEYS = ("direction", "dir", "origin")
FRAME_KEYS = ("message", "frame", "raw_frame", "msg")
VERSION_KEYS = ("ocpp_version", "protocol", "version")
DIRECTION_VALUES: dict[str, str] = {
    "cs_to_csms": CS_TO_CSMS, "from_cp": CS_TO_CSMS, "cs": CS_TO_CSMS, "cp": CS_TO_CSMS,
    "csms_to_cs": CSMS_TO_CS, "to_cp": CSMS_TO_CS, "csms": CSMS_TO_CS,
}  # fmt: skip
RELATIVE_VALUES = {"in": True, "received": True, "out": False, "sent": False}
VERSION_VALUES = {"ocpp1.5": "1.5", "ocpp1.6": "1.6", "ocpp2.0.1": "2.0.1", "1.6": "1.6",
                  "2.0.1": "2.0.1", "1.5": "1.5", "ocpp2.1": "2.1", "2.1": "2.1"}  # fmt: skip


def sniff(lines: list[bytes]) -> float:
    hits = sum(1 for line in lines if _SNIFF.search(line))
    return hits / len(lines) if lines else 0.0


def _first(obj: dict[str, Any], keys: tuple[str, ...]) -> Any:
    for key in keys:
        if key in obj:
            return obj[key]
    return None


def _object_line(
    obj: dict[str, Any], number: int, line: bytes, options: ReaderOptions, version: str
) -> FrameEvent | Bad:
    message = _first(obj, FRAME_KEYS)
    if isinstance(message, str):
        try:
            message = orjson.loads(message)
        except orjson.JSONDecodeError:
            return bad(number, "wrapped frame text is not JSON", line)
    if message is None:
        return bad(number, "JSON object without a frame under a known key", line)
    stamp = _first(obj, TS_KEYS)
    ts = (
        parse_ts(stamp) if isinstance(stamp, str)
        else round(stamp * 1_000_000) if isinstance(stamp, int | float) else None
    )  # fmt: skip
    raw_dir = str(_first(obj, DIR_KEYS) or "").lower()
    direction = DIRECTION_VALUES.get(raw_dir)
    if direction is None and raw_dir in RELATIVE_VALUES:
        mine = received_direction(options.side)
        direction = mine if RELATIVE_VALUES[raw_dir] else REVERSE[mine]
    version = VERSION_VALUES.get(str(_first(obj, VERSION_KEYS) or "").lower(), version)
    cp = _first(obj, CP_KEYS)
    try:
        mtype, mid, action, payload = decode_frame(message)
    except FrameError as exc:
        return bad(number, frame_reason(exc), line)
    cp = str(cp) if cp is not None else options.charge_point_id
    return FrameEvent(ts, cp, direction, version, mtype, mid, action, payload, number)


def read(lines: Iterable[tuple[int, bytes]], options: ReaderOptions) -> Iterator[FrameEvent | Bad]:
    version = options.version or "1.6"
    default_cp = options.charge_point_id
    for number, line in lines:
        if line[:1] == b"{":
            try:
                obj = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                yield bad(number, f"not JSON: {exc}", line)
                continue
            if isinstance(obj, dict):
                yield _object_line(obj, number, line, options, version)
                continue
        m = _FRAME_START.search(line)
        if m is None:
            yield bad(number, "no OCPP-J frame on the line", line)
            continue
        start = m.start()
        body = line[start:]
        try:
            message = orjson.loads(body)
        except orjson.JSONDecodeError:
            try:  # trailing data after the frame (e.g. Blink snoops' ",1969.6,0")
                message, _ = _DECODER.raw_decode(body.decode("utf-8", "replace"))
            except ValueError as exc:
                yield bad(number, f"frame is not valid JSON: {exc}", line)
                continue
        try:
            mtype, mid, action, payload = decode_frame(message)
        except FrameError as exc:
            yield bad(number, frame_reason(exc), line)
            continue
        if start:
            ts, direction, cp = parse_prefix(line[:start].decode("utf-8", "replace"), options.side)
        else:
            ts, direction, cp = None, None, None
        yield FrameEvent(
            ts, cp or default_cp, direction, version, mtype, mid, action, payload, number
        )
