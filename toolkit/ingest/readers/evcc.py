"""evcc's OCPP trace lines: ``recv <charger>: [...]`` and ``send <charger>: [...]``.

evcc runs the OCPP server its chargers connect to, and logs each frame as
(field findings §4; evcc #32039 shows the shape)::

    [ocpp  ] TRACE 2026/07/22 15:53:24 recv charger: [2,"1000","Heartbeat",{}]
    [ocpp  ] TRACE 2026/07/22 15:53:24 send charger: [3,"1000",{...}]

``recv`` is a frame evcc received, so by default (``--side csms``) one the
charger sent. The time is local without a zone and a slash date; it is
read as UTC, like other zone-less logs (README, "Log times"). evcc's lines
of other subsystems (``[main  ] INFO 2026/07/22 ... starting``) carry no
frame: they are counted as skipped, not quarantined.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

import orjson

from ocppkit.toolkit.ingest.events import (
    REVERSE,
    SKIPPED,
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

NAME = "evcc"
SPLITTABLE = True

_LINE = re.compile(rb"^(?P<pre>.*?)\b(?P<verb>recv|send) (?P<cp>[^\s:]+): (?P<frame>\[.*)$")
_TS = re.compile(rb"(\d{4})/(\d{2})/(\d{2}) (\d{2}:\d{2}:\d{2}(?:\.\d+)?)")
_EVCC = re.compile(rb"^\[[\w-]+\s*\] [A-Z]+ \d{4}/\d{2}/\d{2} ")  # evcc's own line prefix


def sniff(lines: list[bytes]) -> float:
    frames = sum(1 for line in lines if _LINE.match(line) and _TS.search(line))
    chatter = sum(1 for line in lines if _EVCC.match(line) and not _LINE.match(line))
    return (frames + chatter) / len(lines) if lines and frames else 0.0


def read(lines: Iterable[tuple[int, bytes]], options: ReaderOptions) -> Iterator[FrameEvent | Bad]:
    version = options.version or "1.6"
    received = received_direction(options.side)
    for number, line in lines:
        m = _LINE.match(line)
        if m is None:
            if _EVCC.match(line):
                yield Bad(number, f"{SKIPPED}evcc line without a frame", "")
            else:
                yield bad(number, "not an evcc recv/send line", line)
            continue
        try:
            mtype, mid, action, payload = decode_frame(orjson.loads(m.group("frame")))
        except orjson.JSONDecodeError as exc:
            yield bad(number, f"frame is not valid JSON: {exc}", line)
            continue
        except FrameError as exc:
            yield bad(number, frame_reason(exc), line)
            continue
        t = _TS.search(m.group("pre"))
        ts = parse_ts("{}-{}-{}T{}".format(*(g.decode() for g in t.groups()))) if t else None
        direction = received if m.group("verb") == b"recv" else REVERSE[received]
        cp = m.group("cp").decode("utf-8", "replace")
        yield FrameEvent(ts, cp, direction, version, mtype, mid, action, payload, number)
