"""The ocppkit journal: one JSON record per line (ocppkit.translators.journal).

The hot path checks the record's shape by hand (a schema check per line
would cost more than the rest of ingestion); a line that fails it goes
through :func:`ocppkit.translators.journal.record_from_dict`, whose error says what
is wrong, and into quarantine. 1.5 records carry the SOAP envelope as a
string and are read by the SOAP reader's envelope parser.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

import orjson

from ocppkit.toolkit.ingest.events import (
    SKIPPED,
    Bad,
    FrameEvent,
    bad,
    decode_frame,
    frame_reason,
    parse_ts,
)
from ocppkit.toolkit.ingest.readers import ReaderOptions
from ocppkit.translators.errors import FrameError, JournalError
from ocppkit.translators.journal import Direction, record_from_dict
from ocppkit.translators.versions import OcppVersion

NAME = "journal"
SPLITTABLE = True

_DIRECTIONS = frozenset(d.value for d in Direction)
_VERSIONS = frozenset(v.value for v in OcppVersion)
_JSON_VERSIONS = frozenset(v.value for v in OcppVersion if v.is_json)


def sniff(lines: list[bytes]) -> float:
    hits = sum(
        1 for line in lines if line.startswith(b"{") and b'"charge_point_id"' in line
        and b'"message"' in line
    )  # fmt: skip
    return hits / len(lines) if lines else 0.0


def _why(obj: Any) -> str:
    try:
        record_from_dict(obj)
    except JournalError as exc:
        return str(exc)
    return "not a journal record: unreadable timestamp"


# The exact layout encode_record writes (keys in order, compact), up to the payload.
_HEADER = (
    rb'\{"timestamp":"(\d{4}-\d\d-\d\dT[^"\\\n]{8,30}Z)","charge_point_id":"([^"\\\n]+)",'
    rb'"direction":"(cs_to_csms|csms_to_cs)","ocpp_version":"(1\.6|2\.0\.1|2\.1)",'
    rb'"message":\[([23]),"([^"\\\n]{1,36})",(?:"(\w+)",)?\{'
)
_LAYOUT = re.compile(_HEADER)
_TEXT = {
    b"cs_to_csms": "cs_to_csms",
    b"csms_to_cs": "csms_to_cs",
    b"1.6": "1.6",
    b"2.0.1": "2.0.1",
    b"2.1": "2.1",
}


def _event(
    m: re.Match[bytes], payload: bytes, number: int, names: dict[bytes, str]
) -> FrameEvent | None:
    stamp, cp, direction, version, mtype, mid, action = m.groups()
    if (mtype == b"2") is (action is None):
        return None
    name = names.get(cp)
    if name is None:
        name = names[cp] = cp.decode()
    return FrameEvent(
        stamp.decode(), name, _TEXT[direction], _TEXT[version], 2 if action else 3, mid.decode(),
        names.get(action) or names.setdefault(action, action.decode()) if action else None,
        payload, number,
    )  # fmt: skip


def _fast(line: bytes, number: int, names: dict[bytes, str]) -> FrameEvent | None:
    """Read a record in the exact layout ocppkit writes without decoding its payload.

    ``encode_record`` writes the keys in one order and compact, so one anchored
    pattern finds every field up to the payload. The payload is handed on as
    JSON text: the block parses only the payloads it needs (and checks the
    others in one go with Arrow). Anything unusual (escapes, extra keys,
    CALLERROR, other spacing) returns None and takes the general path.
    """
    m = _LAYOUT.match(line)
    if m is None or line[-3:] != b"}]}":
        return None
    return _event(m, line[m.end() - 1 : -2], number, names)


def read_block(blob: bytes, first_line: int, options: ReaderOptions) -> Iterator[FrameEvent | Bad]:
    """:func:`read` over a whole block at once, one anchored match per line.

    Each line is matched at its start only: a pattern scanning the block
    (``finditer``) would also try every byte of every payload for the next
    line start, and measured about twice as slow. Lines the pattern or the
    layout's end decline go through :func:`read_general`, in order, with
    their own line numbers.
    """
    names: dict[bytes, str] = {}
    match = _LAYOUT.match
    for number, line in enumerate(blob.split(b"\n"), first_line):
        m = match(line)
        if m is not None:
            if line[-1:] != b"}":
                line = line.rstrip(b" \t\r")
            if line[-3:] == b"}]}":
                event = _event(m, line[m.end() - 1 : -2], number, names)
                if event is not None:
                    yield event
                    continue
        line = line.strip()
        if line:
            yield from read_general(((number, line),), options)


def read(lines: Iterable[tuple[int, bytes]], options: ReaderOptions) -> Iterator[FrameEvent | Bad]:
    fast = _fast
    names: dict[bytes, str] = {}  # charger ids and actions, decoded once
    for number, line in lines:
        quick = fast(line, number, names)
        if quick is not None:
            yield quick
        else:
            yield from read_general(((number, line),), options)


def read_general(
    lines: Iterable[tuple[int, bytes]], options: ReaderOptions
) -> Iterator[FrameEvent | Bad]:
    """Every line decoded in full (the path of any record :func:`_fast` declines)."""
    for number, line in lines:
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            yield bad(number, f"not JSON: {exc}", line)
            continue
        try:
            stamp = obj["timestamp"]
            cp = obj["charge_point_id"]
            direction = obj["direction"]
            version = obj["ocpp_version"]
            message = obj["message"]
            # The text is cast to a time with the whole block (ocppkit.toolkit.ingest.block); a
            # string that looks like one but is not becomes a null time flagged bad_timestamp.
            ok = (
                type(stamp) is str and len(stamp) >= 20 and stamp[-1] == "Z" and stamp[10] == "T"
                and type(cp) is str and cp != "" and direction in _DIRECTIONS
                and version in _VERSIONS
            )  # fmt: skip
        except (KeyError, TypeError):
            ok = False
        if not ok:
            yield bad(number, _why(obj), line)
            continue
        leg = obj.get("leg")
        if options.leg is not None and leg is not None and leg != options.leg:
            yield Bad(number, f"{SKIPPED}{leg} leg", "")
            continue
        if type(message) is str:
            from ocppkit.toolkit.ingest.readers.soap15 import (
                envelope_event,
            )  # lxml/zeep only when needed

            event = envelope_event(message, parse_ts(stamp), cp, direction, number)
            yield event if isinstance(event, FrameEvent) else bad(number, event, line)
            continue
        try:
            mtype, mid, action, payload = decode_frame(message)
        except FrameError as exc:
            yield bad(number, frame_reason(exc), line)
            continue
        yield FrameEvent(stamp, cp, direction, version, mtype, mid, action, payload, number)
