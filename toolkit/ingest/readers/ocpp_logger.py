"""Log lines of the ``ocpp`` Python package's ChargePoint logger.

The package logs ``"%s: receive message %s"`` and ``"%s: send %s"`` with
the charger id and the frame (analysis-research §2, shape 3); what comes
before depends on the application's logging config:

* ``INFO:ocpp:CP-17: receive message [2,"a1","Heartbeat",{}]`` (basicConfig);
* ``2026-03-02 07:15:20,118 - ocpp - INFO - CP-17: send [3,"a1",{}]``;
* ``2026-03-02 08:15:20.118 INFO (MainThread) [ocpp] CP-17: receive message [...]``
  (Home Assistant: local time without a zone; read as UTC, see README).

"receive" means received by the side that ran the library: the CSMS by
default (``--side cs`` for a charger-side application).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

import orjson

from ocppkit.toolkit.ingest.events import (
    REVERSE,
    Bad,
    FrameEvent,
    bad,
    decode_frame,
    frame_reason,
    parse_ts,
)
from ocppkit.toolkit.ingest.readers import ReaderOptions
from ocppkit.toolkit.ingest.readers.prefix import received_direction
from ocppkit.translators.errors import FrameError

NAME = "ocpp-logger"
SPLITTABLE = True

_LINE = re.compile(
    rb"^(?P<pre>.*?)(?P<cp>[^\s:]+): (?P<verb>send|receive message) (?P<frame>\[.*)$"
)
_TS = re.compile(rb"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?")


def sniff(lines: list[bytes]) -> float:
    hits = sum(1 for line in lines if _LINE.match(line))
    return hits / len(lines) if lines else 0.0


def read(lines: Iterable[tuple[int, bytes]], options: ReaderOptions) -> Iterator[FrameEvent | Bad]:
    version = options.version or "1.6"
    received = received_direction(options.side)
    sent = REVERSE[received]
    for number, line in lines:
        m = _LINE.match(line)
        if m is None:
            yield bad(number, "not an ocpp logger send/receive line", line)
            continue
        try:
            message = orjson.loads(m.group("frame"))
        except orjson.JSONDecodeError as exc:
            yield bad(number, f"frame is not valid JSON: {exc}", line)
            continue
        try:
            mtype, mid, action, payload = decode_frame(message)
        except FrameError as exc:
            yield bad(number, frame_reason(exc), line)
            continue
        t = _TS.match(m.group("pre"))
        ts = parse_ts(t.group().decode()) if t else None
        direction = received if m.group("verb") == b"receive message" else sent
        cp = m.group("cp").decode("utf-8", "replace")
        yield FrameEvent(ts, cp, direction, version, mtype, mid, action, payload, number)
